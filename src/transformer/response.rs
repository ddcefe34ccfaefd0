//! Step 5 and the role's other answers: a variant with its long immutable lifetime, strong
//! `ETag` and `Server-Timing`; the 301 to a canonical URL; plain text.

use std::time::Duration;

use bytes::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use super::production::Variant;
use crate::http::{Body, full};
use crate::protocol::{IMMUTABLE_CACHE_CONTROL, REDIRECT_CACHE_CONTROL};
use crate::singleflight::Role;
use imgedge_engine::Timings;

/// `d` in milliseconds with one decimal, as `Server-Timing` writes durations.
pub(super) fn millis_text(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// The phases of a production, for `Server-Timing`; `kept` marks a render from an original
/// decoded for an earlier variant (no fetch, no decode of the original). `record` is the
/// insert of the variant's row; its PUT runs after the answer, so is not among them.
pub(super) fn server_timing(
    fetch: Duration,
    kept: bool,
    render: &Timings,
    record: Duration,
) -> String {
    format!(
        "fetch;dur={}, {}decode;dur={}, transform;dur={}, encode;dur={}, record;dur={}",
        millis_text(fetch),
        if kept { "kept, " } else { "" },
        millis_text(render.decode),
        millis_text(render.transform),
        millis_text(render.encode),
        millis_text(record)
    )
}

pub(super) fn variant_response(variant: &Variant, role: Role) -> Response<Body> {
    let mut response = Response::new(full(variant.bytes.clone()));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(variant.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(IMMUTABLE_CACHE_CONTROL),
    );
    if let Ok(etag) = HeaderValue::from_str(&variant.etag) {
        headers.insert(header::ETAG, etag);
    }
    let timing = match role {
        Role::Leader => variant.timing.clone(),
        // This request waited for another's render: say so, with the render's phases.
        Role::Follower => format!("{}, joined", variant.timing),
    };
    if let Ok(timing) = HeaderValue::from_str(&timing) {
        headers.insert(HeaderName::from_static("server-timing"), timing);
    }
    response
}

pub(super) fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(crate::http::empty());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(REDIRECT_CACHE_CONTROL),
    );
    response
}

pub(super) fn plain(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
