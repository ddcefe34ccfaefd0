//! Feeds arbitrary bytes to the transform-URL parser, split into path and query.
//!
//! Input: UTF-8 text `path?query` (no `?`: all path). When the first byte is odd, the
//! whole input is the query of a well-formed path, so the fuzzer reaches the query
//! parser at once. Whatever parses must canonicalise to a query that re-parses as
//! canonical to the same spec, and its redirect location must parse as canonical too.
#![no_main]

use imgedge_url::{TransformRequest, TransformSpec};
use libfuzzer_sys::fuzz_target;

const PATH: &str = "/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/AAAAAAAAAAAAAAAAAAAAAA";

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (path, query) = if first % 2 == 1 {
        (PATH, text)
    } else {
        text.split_once('?').unwrap_or((text, ""))
    };
    let Ok(req) = TransformRequest::parse(path, query) else {
        return;
    };
    let canonical = req.spec().canonical_query();
    let again = TransformSpec::parse(&canonical).expect("the canonical query parses");
    assert!(
        again.is_canonical(),
        "not canonical: {canonical:?} from {query:?}"
    );
    assert_eq!(again.spec(), req.spec(), "{canonical:?} from {query:?}");

    let location = req.canonical_path();
    let (p, q) = location.split_once('?').unwrap_or((&location, ""));
    let redirected = TransformRequest::parse(p, q).expect("the canonical path parses");
    assert!(redirected.is_canonical());
    assert_eq!(redirected.sig(), req.sig());
    assert_eq!(redirected.image_id(), req.image_id());
});
