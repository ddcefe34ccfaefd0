//! Feeds arbitrary bytes to the checks an upload's body goes through before it is stored,
//! `imgedge_upload::check`, the very function the API calls: the sniffer, then the
//! metadata's bound, libvips' header (`Engine::inspect`), the sniffed and decoded formats
//! compared, the frame limit, then a full decode (`Engine::verify`).
//!
//! Besides never crashing (libvips decodes hostile bytes here, with AddressSanitizer
//! watching the allocations), it asserts what the checks promise:
//! - a refusal is one of the upload's own refusals (empty, not an accepted format, trailing
//!   data, no end, formats that disagree, too many frames, metadata over its bound, too many
//!   pixels, corrupt), never a render's failure or libvips failing to start: the API maps
//!   each of these to its 4xx (tested in the service's error contract);
//! - when the sniffer and libvips both recognise the file, the checks refuse it unless they
//!   agree on its format;
//! - an accepted file has a sane size, at most the frame limit, and nothing after its end:
//!   the sniffer found where it ends, so a byte appended after it is refused as trailing data
//!   (a polyglot).
#![no_main]

use std::sync::OnceLock;

use imgedge_engine::{Engine, EngineConfig, EngineError};
use imgedge_upload::{Refusal, SniffError, Sniffed, UploadLimits, check, sniff};
use libfuzzer_sys::fuzz_target;

/// The limits are configuration, not part of the checks: lower than the defaults so that
/// inputs of a few kilobytes reach both refusals, and each run stays fast and small (a
/// header may claim any size; decoding 50 megapixels per input would slow the fuzzer to a
/// crawl and run into libFuzzer's memory limit).
const MAX_SOURCE_PIXELS: u64 = 1 << 22;
const LIMITS: UploadLimits = UploadLimits {
    max_frames: 4,
    max_metadata_bytes: 64 * 1024,
};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(EngineConfig {
            max_source_pixels: MAX_SOURCE_PIXELS,
            // One libvips thread: runs stay reproducible, and the fuzzer owns one core.
            vips_concurrency: 1,
            ..EngineConfig::default()
        })
        .expect("libvips starts")
    })
}

/// Whether `refusal` is one an upload may get: the checks never fail like a render.
fn is_an_upload_refusal(refusal: &Refusal) -> bool {
    match refusal {
        Refusal::Sniff(_)
        | Refusal::FormatMismatch { .. }
        | Refusal::TooManyFrames { .. }
        | Refusal::Metadata(_) => true,
        Refusal::Image(e) => matches!(
            e,
            EngineError::Empty
                | EngineError::UnsupportedFormat
                | EngineError::TooManyPixels { .. }
                | EngineError::Corrupt(_)
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let verdict = check(engine, data, LIMITS);

    // The sniffer and libvips, asked separately: when both recognise the file and disagree,
    // the checks must have refused it.
    if let (Ok(sniffed), Ok(header)) = (sniff(data), engine.inspect(data))
        && !sniffed.agrees_with(header.format)
    {
        assert!(
            verdict.is_err(),
            "sniffed {sniffed:?}, libvips read {:?}, and the upload was accepted",
            header.format
        );
    }

    match verdict {
        Ok(accepted) => {
            let info = accepted.info;
            assert!(info.width > 0 && info.height > 0, "accepted at {info:?}");
            assert!(u64::from(info.width) * u64::from(info.height) <= MAX_SOURCE_PIXELS);
            assert!(
                (1..=LIMITS.max_frames).contains(&info.frames),
                "accepted with {info:?}"
            );
            assert!(accepted.sniffed.agrees_with(info.format), "{accepted:?}");
            // ISO-BMFF's last box may run to the end of the file (size 0), so what follows
            // it is inside that box, not after the image: HEIF is left out.
            if accepted.sniffed != Sniffed::Heif {
                let mut polyglot = data.to_vec();
                polyglot.push(b'<');
                assert!(
                    matches!(sniff(&polyglot), Err(SniffError::TrailingData(_))),
                    "an accepted {:?} with a byte appended is {:?}",
                    accepted.sniffed,
                    sniff(&polyglot)
                );
            }
        }
        Err(refusal) => {
            assert!(is_an_upload_refusal(&refusal), "the checks returned {refusal:?}");
        }
    }
});
