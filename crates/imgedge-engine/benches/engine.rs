//! The engine alone, on the work a cold miss does most: a large JPEG to a web-sized WebP.
//!
//! `scripts/bench-engine` runs this next to the same work done by libvips directly (pyvips, in
//! process) and reports the ratio; see docs/performance.md. The 20-megapixel photo comes from
//! the benchmark corpus (`scripts/photo-corpus`); without it only the small photo runs.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imgedge_engine::{Engine, EngineConfig};
use imgedge_url::TransformSpec;

#[path = "support/corpus.rs"]
mod corpus;
use corpus::corpus_dir;

fn bench_render(c: &mut Criterion, name: &str, photo: &[u8], query: &str) {
    let engine = Engine::new(EngineConfig::default()).expect("libvips starts");
    let spec = TransformSpec::parse(query)
        .expect("valid query")
        .into_spec();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.iter(|| engine.render(photo, &spec).expect("render succeeds"));
    });
    group.finish();
}

fn engine(c: &mut Criterion) {
    let large = corpus_dir().join("large-20mp.jpg");
    match std::fs::read(&large) {
        Ok(photo) => bench_render(c, "20mp_jpeg_to_w800_webp", &photo, "width=800&format=webp"),
        Err(err) => eprintln!(
            "skipping 20mp_jpeg_to_w800_webp: {} ({err}); run scripts/photo-corpus",
            large.display()
        ),
    }
    let small = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/photos/detail.jpg"
    ))
    .expect("test photo");
    bench_render(
        c,
        "1024px_jpeg_to_w400_webp",
        &small,
        "width=400&format=webp",
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(15));
    targets = engine
}
criterion_main!(benches);
