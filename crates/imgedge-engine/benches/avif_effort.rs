//! AVIF against WebP on the work of a cold miss: the 20-megapixel photo to width 800, by
//! the engine itself, at every AV1 encoder effort. For each output: the render's median
//! time (decode, resize and encode), its ratio to WebP's measured in the same run, its
//! bytes, and its PSNR against the same render kept lossless (PNG), so that an effort is
//! chosen on time, size and fidelity together (docs/performance.md).
//!
//!     cargo bench -p imgedge-engine --bench avif_effort [-- ROUNDS]
//!
//! Rounds (3 by default) each render every output a few times, in turn, so that a slow phase
//! of the machine hits them all; the median over every render counts. Under `cargo test` it
//! renders each output once from the small test photo, to keep the bench compiling and
//! working.

use std::time::{Duration, Instant};

use imgedge_engine::{Engine, EngineConfig};
use imgedge_url::TransformSpec;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::corpus_dir;

/// Renders of each output per round.
const PER_ROUND: usize = 3;
const EFFORTS: std::ops::RangeInclusive<u8> = 0..=9;

/// One output under test: WebP, or AVIF at an effort.
struct Output {
    name: String,
    engine: Engine,
    spec: TransformSpec,
    times: Vec<Duration>,
    bytes: usize,
    psnr: f64,
}

fn spec(query: &str) -> TransformSpec {
    TransformSpec::parse(query)
        .expect("a valid query")
        .into_spec()
}

fn engine(avif_effort: u8) -> Engine {
    Engine::new(EngineConfig {
        avif_effort,
        ..EngineConfig::default()
    })
    .expect("libvips starts")
}

/// RGB(A) pixels of an encoded output, through the engine (to PNG) and the `image` crate.
fn pixels(engine: &Engine, encoded: &[u8]) -> image::RgbImage {
    let png = engine
        .render(encoded, &spec("format=png"))
        .expect("the output decodes");
    image::load_from_memory(&png.bytes)
        .expect("a PNG")
        .to_rgb8()
}

/// Peak signal-to-noise ratio of `b` against `a`, in dB, over the RGB channels.
fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "one size for every output");
    let sum: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = sum / a.as_raw().len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3);
    let (photo, width, rounds, per_round) = if benching {
        let path = corpus_dir().join("large-20mp.jpg");
        let photo = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; run scripts/photo-corpus", path.display());
        });
        (photo, 800, rounds, PER_ROUND)
    } else {
        let small = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/photos/detail.jpg"
        );
        (std::fs::read(small).expect("test photo"), 200, 1, 1)
    };

    let reference_engine = engine(EngineConfig::default().avif_effort);
    let reference = reference_engine
        .render(&photo, &spec(&format!("width={width}&format=png")))
        .expect("the lossless render");
    let reference = pixels(&reference_engine, &reference.bytes);

    let mut outputs = vec![Output {
        name: "WebP".to_owned(),
        engine: engine(EngineConfig::default().avif_effort),
        spec: spec(&format!("width={width}&format=webp")),
        times: Vec::new(),
        bytes: 0,
        psnr: 0.0,
    }];
    for effort in EFFORTS {
        outputs.push(Output {
            name: format!("AVIF, effort {effort}"),
            engine: engine(effort),
            spec: spec(&format!("width={width}&format=avif")),
            times: Vec::new(),
            bytes: 0,
            psnr: 0.0,
        });
    }
    // One render each first: warms libvips up, and gives each output's bytes and PSNR.
    for output in &mut outputs {
        let rendered = output.engine.render(&photo, &output.spec).expect("renders");
        output.bytes = rendered.bytes.len();
        output.psnr = psnr(&reference, &pixels(&output.engine, &rendered.bytes));
    }
    for round in 1..=rounds {
        if benching {
            eprintln!("round {round}/{rounds}");
        }
        for output in &mut outputs {
            for _ in 0..per_round {
                let started = Instant::now();
                output.engine.render(&photo, &output.spec).expect("renders");
                output.times.push(started.elapsed());
            }
        }
    }

    let webp = median(&mut outputs[0].times.clone());
    println!(
        "| output | render, median of {} | × WebP | bytes | × WebP's bytes | PSNR against lossless |",
        rounds * per_round
    );
    println!("|---|---|---|---|---|---|");
    let webp_bytes = outputs[0].bytes;
    for output in &mut outputs {
        let time = median(&mut output.times);
        println!(
            "| {} | {:.1} ms | {:.2}× | {} | {:.2}× | {:.2} dB |",
            output.name,
            time.as_secs_f64() * 1000.0,
            time.as_secs_f64() / webp.as_secs_f64(),
            output.bytes,
            output.bytes as f64 / webp_bytes as f64,
            output.psnr
        );
    }
}
