//! Kept intermediates and shrink-on-load: the several widths of a srcset from one decode,
//! byte-identical to rendering the original.

use imgedge::error::PublicError as _;
use std::time::Duration;

use imgedge_engine::{Engine, EngineConfig, ShrinkOnLoad};

use super::{DETAIL, LIGHT, ORIENTED, SVG};
use crate::support::{
    edge_energy, engine, gif, mean_abs_diff, photo, png_header_only, render, rgba, spec,
};

/// A budget every test image fits in.
const KEEP: u64 = 64 << 20;

/// An engine that shrinks JPEGs on load under `policy`.
fn engine_with(policy: ShrinkOnLoad) -> Engine {
    Engine::new(EngineConfig {
        shrink_on_load: policy,
        ..EngineConfig::default()
    })
    .expect("libvips starts")
}

#[test]
fn a_kept_intermediate_renders_the_same_bytes_as_the_original() {
    let sources = [
        (DETAIL, photo(DETAIL)),
        (ORIENTED, photo(ORIENTED)),
        ("png", render(&photo(LIGHT), "format=png").bytes),
        ("gif", gif(300, 200, true)),
    ];
    // Every JPEG shrink-on-load factor (1, 2, 4, 8 for detail.jpg's 1024 pixels, under
    // either policy), each fit, and the steps after the resize.
    let queries = [
        "",
        "width=40",
        "width=100",
        "width=200",
        "width=300",
        "width=600",
        "width=2000",
        "height=90",
        "width=120&height=120&fit=cover",
        "width=300&height=50&fit=fill",
        "width=200&height=200&fit=contain&format=png",
        "width=100&height=300&fit=outside",
        "width=256&rotate=90&grayscale=1&format=webp",
        "width=150&mirror=1&blur=1.5&watermarkText=kept&format=png",
        // Version 1.1: every new parameter, a crop at each shrink-on-load factor.
        "crop=100,50,600,400",
        "crop=100,50,600,400&width=70",
        "crop=10,20,900,600&width=200&height=100&gravity=0.2,0.9",
        "width=150&dpr=2",
        "width=100&height=100&gravity=northeast",
        "width=100&height=100&gravity=attention",
        "width=100&height=100&gravity=entropy",
        "width=100&sharpen=1.5",
        "width=200&height=200&fit=contain&background=ff000080&format=webp",
        "width=120&rotate=30&background=00ff00",
        "width=120&palette=1&format=png",
        "width=120&format=auto",
    ];
    for policy in [ShrinkOnLoad::Fast, ShrinkOnLoad::Margin] {
        let engine = engine_with(policy);
        for (name, bytes) in &sources {
            for query in queries {
                let spec = spec(query);
                let direct = engine.render(bytes, &spec).expect("renders");
                let (first, kept) = engine
                    .render_keeping(bytes, &spec, KEEP)
                    .expect("renders keeping");
                let kept =
                    kept.unwrap_or_else(|| panic!("{policy:?} {name} {query:?}: an intermediate"));
                assert!(
                    first.bytes == direct.bytes,
                    "{policy:?} {name} {query:?}: first render"
                );
                assert!(kept.serves(&spec), "{policy:?} {name} {query:?}");
                let again = engine.render_decoded(&kept, &spec).expect("renders");
                assert!(
                    again.bytes == direct.bytes,
                    "{policy:?} {name} {query:?}: from the intermediate"
                );
            }
        }
    }
}

#[test]
fn one_intermediate_serves_the_widths_that_decode_alike() {
    let bytes = photo(DETAIL);
    // detail.jpg is 1024 pixels wide. `Fast` decodes widths 65 to 256 at 1/4; `Margin`
    // decodes 129 to 256 at 1/2 and 65 to 128 at 1/4.
    let cases = [
        (
            ShrinkOnLoad::Fast,
            4,
            [
                "width=100&format=png",
                "width=256",
                "width=180&grayscale=1&format=webp",
            ],
            ["width=300", "width=60", "width=40&height=40&fit=cover"],
        ),
        (
            ShrinkOnLoad::Margin,
            2,
            [
                "width=129&format=png",
                "width=256",
                "width=180&grayscale=1&format=webp",
            ],
            ["width=128", "width=300", "width=60&height=60&fit=cover"],
        ),
    ];
    for (policy, factor, served, not_served) in cases {
        let engine = engine_with(policy);
        let (_, kept) = engine
            .render_keeping(&bytes, &spec("width=200"), KEEP)
            .expect("renders");
        let kept = kept.expect("kept");
        assert_eq!(kept.shrink(), factor, "{policy:?}");
        for query in served {
            let spec = spec(query);
            assert!(kept.serves(&spec), "{policy:?} {query}");
            let from_kept = engine.render_decoded(&kept, &spec).expect("renders");
            let direct = engine.render(&bytes, &spec).expect("renders");
            assert!(from_kept.bytes == direct.bytes, "{policy:?} {query}");
        }
        // Another factor decodes differently (more or fewer pixels): not served.
        for query in not_served {
            assert!(!kept.serves(&spec(query)), "{policy:?} {query}");
        }
    }
}

#[test]
fn a_fast_shrink_on_load_looks_like_the_careful_one() {
    // The same variants under both policies, compared pixel by pixel: the fast decode is a
    // cheaper route to nearly the same image. Measured (libvips 8.14): a mean difference of
    // 0.3 to 0.6 of 255 on light.jpg and 1.2 to 4.2 on detail.jpg's fine texture, with 2 to
    // 7 % less edge energy: a little softer, never a different picture.
    let fast = engine_with(ShrinkOnLoad::Fast);
    let margin = engine_with(ShrinkOnLoad::Margin);
    for name in [DETAIL, LIGHT] {
        let bytes = photo(name);
        for query in [
            "width=300&format=png",
            "width=200&format=png",
            "width=150&format=png",
        ] {
            let spec = spec(query);
            let (a, b) = (
                fast.render(&bytes, &spec).expect("renders"),
                margin.render(&bytes, &spec).expect("renders"),
            );
            let (a, b) = (rgba(&a), rgba(&b));
            assert_eq!(a.dimensions(), b.dimensions(), "{name} {query}");
            let diff = mean_abs_diff(&a, &b);
            assert!(
                diff < 5.0,
                "{name} {query}: mean difference {diff:.2} of 255"
            );
            let sharpness = edge_energy(&a) / edge_energy(&b);
            assert!(
                (0.9..1.02).contains(&sharpness),
                "{name} {query}: edge energy {sharpness:.3} of the careful render's"
            );
        }
    }
}

#[test]
fn intermediates_are_kept_only_where_worth_keeping() {
    let engine = engine();
    let jpeg = photo(DETAIL);
    // 1024 → 600: too little shrinking to shrink on load, so the whole image is decoded.
    let spec = spec("width=600&format=webp");
    let direct = engine.render(&jpeg, &spec).expect("renders");
    // Larger than the budget, or keeping switched off: rendered as `render` does.
    for budget in [0, 1024 * 682 * 3 - 1] {
        let (out, kept) = engine
            .render_keeping(&jpeg, &spec, budget)
            .expect("renders");
        assert!(kept.is_none(), "budget {budget}");
        assert!(out.bytes == direct.bytes, "budget {budget}");
    }
    let (_, kept) = engine
        .render_keeping(&jpeg, &spec, 1024 * 682 * 3)
        .expect("renders");
    assert_eq!(
        kept.expect("kept at the budget").size_in_bytes(),
        1024 * 682 * 3
    );
    // WebP decodes differently inside thumbnail: streamed, never kept.
    let webp = render(&jpeg, "format=webp").bytes;
    let (_, kept) = engine.render_keeping(&webp, &spec, KEEP).expect("renders");
    assert!(kept.is_none());
}

#[test]
fn keeping_refuses_what_render_refuses() {
    let engine = engine();
    let full = photo(LIGHT);
    let half = &full[..full.len() / 2];
    for (bytes, code) in [
        (half, "corrupt_image"),
        (&[][..], "empty_file"),
        (SVG.as_bytes(), "unsupported_format"),
        (&png_header_only(30_000, 30_000)[..], "too_many_pixels"),
    ] {
        let e = engine
            .render_keeping(bytes, &spec("width=300"), KEEP)
            .expect_err("refused");
        assert_eq!(e.code(), code, "{e}");
    }
    let slow = Engine::new(EngineConfig {
        render_timeout: Duration::from_millis(1),
        ..EngineConfig::default()
    })
    .expect("starts");
    let e = slow
        .render_keeping(&photo(DETAIL), &spec("blur=50&format=png"), KEEP)
        .expect_err("times out");
    assert_eq!(e.code(), "render_timeout", "{e}");
}

/// One variant's decode and render share one budget, whoever decoded: a render from a decode
/// that took (or that this request waited for) the whole budget has none left, and one with
/// budget left renders as any other.
#[test]
fn a_render_from_a_decode_gets_what_the_budget_has_left() {
    let budget = Duration::from_secs(5);
    let engine = Engine::new(EngineConfig {
        render_timeout: budget,
        ..EngineConfig::default()
    })
    .expect("starts");
    let spec = spec("width=300");
    let kept = engine
        .decode(&photo(DETAIL), &spec, KEEP)
        .expect("decodes")
        .expect("a JPEG is kept");
    let e = engine
        .render_decoded_after(&kept, &spec, budget)
        .expect_err("no budget left");
    assert_eq!(e.code(), "render_timeout", "{e}");
    let e = engine
        .render_keeping_after(&photo(DETAIL), &spec, KEEP, budget)
        .expect_err("no budget left");
    assert_eq!(e.code(), "render_timeout", "{e}");
    let rendered = engine
        .render_decoded_after(&kept, &spec, budget / 2)
        .expect("half the budget is enough");
    assert_eq!(rendered.width, 300);
}

#[test]
fn a_crop_and_a_pixel_ratio_still_shrink_on_load() {
    // detail.jpg is 1024 wide: a crop shrinks by its region's ratio to the output, and a
    // pixel ratio by the multiplied width.
    let bytes = photo(DETAIL);
    let engine = engine();
    for (query, at_least) in [
        ("crop=0,0,1024,682&width=100", 4),
        ("crop=0,0,512,341&width=100", 2),
        ("crop=512,341,512,341&width=40", 4),
        ("width=60&dpr=2", 4),
    ] {
        let kept = engine
            .decode(&bytes, &spec(query), KEEP)
            .expect("decodes")
            .unwrap_or_else(|| panic!("{query}: an intermediate"));
        assert!(
            kept.shrink() >= at_least,
            "{query}: shrink {}",
            kept.shrink()
        );
    }
}
