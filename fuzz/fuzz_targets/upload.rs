//! Feeds arbitrary bytes to the checks an upload's body goes through before it is stored:
//! the sniffer, then libvips' header (`Engine::inspect`), the sniffed and decoded formats
//! compared, the frame limit, then a full decode (`Engine::verify`).
//!
//! `upload_checks` repeats `upload` and `verify_image` of `src/api/images.rs` step for step
//! (they are private, and take an `AppState`); keep the two in step. Besides never crashing
//! (libvips decodes hostile bytes here, with AddressSanitizer watching the allocations), it
//! asserts what the API promises:
//! - a refusal is the documented 4xx with its stable code (`EngineError::code` for the
//!   engine's), never a 5xx, and its message never carries libvips' own error text;
//! - when the sniffer and libvips both recognise the file, they agree on its format (the
//!   API's `Sniffed::agrees_with` refusal is a second line, never the first);
//! - an accepted file has a sane size, at most the frame limit, the same header on both
//!   reads, and nothing after its end: the sniffer found where it ends, so a byte appended
//!   after it is refused as trailing data (a polyglot).
#![no_main]

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use imgedge::api::{ApiError, ApiSettings};
use imgedge::engine::{Engine, EngineConfig, EngineError, SourceInfo};
use imgedge::sniff::{SniffError, Sniffed, sniff};
use libfuzzer_sys::fuzz_target;

/// The limits are configuration, not part of the checks: lower than the defaults so that
/// inputs of a few kilobytes reach both refusals, and each run stays fast and small (a
/// header may claim any size; decoding 50 megapixels per input would slow the fuzzer to a
/// crawl and run into libFuzzer's memory limit).
const MAX_SOURCE_PIXELS: u64 = 1 << 22;
const MAX_FRAMES: u32 = 4;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        assert!(MAX_FRAMES < ApiSettings::default().max_frames);
        Engine::new(EngineConfig {
            max_source_pixels: MAX_SOURCE_PIXELS,
            // One libvips thread: runs stay reproducible, and the fuzzer owns one core.
            vips_concurrency: 1,
            ..EngineConfig::default()
        })
        .expect("libvips starts")
    })
}

/// What the checks saw on the way, besides their verdict.
struct Checked {
    sniffed: Option<Sniffed>,
    header: Option<SourceInfo>,
    verdict: Result<SourceInfo, ApiError>,
}

/// `upload`'s `sniff(&bytes)?` followed by `verify_image`'s body, in their order.
fn upload_checks(engine: &Engine, bytes: &[u8]) -> Checked {
    let (mut sniffed_as, mut header) = (None, None);
    let verdict = (|| {
        let sniffed = sniff(bytes)?;
        sniffed_as = Some(sniffed);
        let info = engine.inspect(bytes)?;
        header = Some(info);
        if !sniffed.agrees_with(info.format) {
            return Err(ApiError::Sniff(SniffError::Unknown));
        }
        if info.frames > MAX_FRAMES {
            return Err(ApiError::TooManyFrames {
                frames: info.frames,
                limit: MAX_FRAMES,
            });
        }
        let verified = engine.verify(bytes)?;
        assert_eq!(verified, info, "verify read another header than inspect");
        Ok(info)
    })();
    Checked {
        sniffed: sniffed_as,
        header,
        verdict,
    }
}

/// The status and stable code the API documents for a refused upload (400: empty, 415: not
/// an accepted format, 422: corrupt, truncated, too many pixels or frames).
fn documented(err: &ApiError) -> (StatusCode, &'static str) {
    match err {
        ApiError::Sniff(SniffError::Empty) => (StatusCode::BAD_REQUEST, "empty_file"),
        ApiError::Sniff(SniffError::Unknown | SniffError::TrailingData(_)) => {
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_format")
        }
        ApiError::Sniff(SniffError::NoEnd) => (StatusCode::UNPROCESSABLE_ENTITY, "corrupt_image"),
        ApiError::TooManyFrames { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "too_many_frames"),
        ApiError::Image(e) => {
            let status = match e {
                EngineError::Empty => StatusCode::BAD_REQUEST,
                EngineError::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                EngineError::TooManyPixels { .. } | EngineError::Corrupt(_) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                // A render's errors, or libvips failing to start: never an upload's.
                other => panic!("inspect or verify returned {other:?}"),
            };
            (status, e.code())
        }
        other => panic!("the checks returned {other:?}"),
    }
}

/// Status, `error` and `message` of the response the API sends for `err`.
fn respond(err: ApiError) -> (StatusCode, String, String) {
    let response = err.into_response();
    let status = response.status();
    let body = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
        .expect("an error body is small and complete");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("an error body is JSON");
    let field = |name: &str| json[name].as_str().expect("a string field").to_owned();
    (status, field("error"), field("message"))
}

fuzz_target!(|data: &[u8]| {
    let checked = upload_checks(engine(), data);

    if let (Some(sniffed), Some(header)) = (checked.sniffed, checked.header) {
        assert!(
            sniffed.agrees_with(header.format),
            "sniffed {sniffed:?}, libvips read {:?}",
            header.format
        );
    }

    match checked.verdict {
        Ok(info) => {
            assert!(info.width > 0 && info.height > 0, "accepted at {info:?}");
            assert!(u64::from(info.width) * u64::from(info.height) <= MAX_SOURCE_PIXELS);
            assert!(
                (1..=MAX_FRAMES).contains(&info.frames),
                "accepted with {info:?}"
            );
            let sniffed = checked.sniffed.expect("an accepted file was sniffed");
            // ISO-BMFF's last box may run to the end of the file (size 0), so what follows
            // it is inside that box, not after the image: HEIF is left out.
            if sniffed != Sniffed::Heif {
                let mut polyglot = data.to_vec();
                polyglot.push(b'<');
                assert!(
                    matches!(sniff(&polyglot), Err(SniffError::TrailingData(_))),
                    "an accepted {sniffed:?} with a byte appended is {:?}",
                    sniff(&polyglot)
                );
            }
        }
        Err(err) => {
            let (status, code) = documented(&err);
            let cause = match &err {
                ApiError::Image(EngineError::Corrupt(cause)) => Some(cause.clone()),
                _ => None,
            };
            let (sent_status, sent_code, message) = respond(err);
            assert_eq!((sent_status, sent_code.as_str()), (status, code));
            assert!(!message.is_empty());
            if let Some(cause) = cause.filter(|c| !c.is_empty()) {
                assert!(!message.contains(&cause), "libvips' text in {message:?}");
            }
        }
    }
});
