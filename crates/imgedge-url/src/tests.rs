//! Sharp edges of the parsing rules, and property tests of the module's invariants.

use proptest::prelude::*;

use super::*;

fn parse(q: &str) -> Result<ParsedQuery, UrlError> {
    TransformSpec::parse(q)
}

/// `(canonical query, is canonical)` or the error code.
fn outcome(q: &str) -> Result<(String, bool), &'static str> {
    parse(q)
        .map(|p| (p.spec().canonical_query(), p.is_canonical()))
        .map_err(UrlError::code)
}

#[expect(clippy::unnecessary_wraps, reason = "compared with `outcome`")]
fn canon(q: &str) -> Result<(String, bool), &'static str> {
    Ok((q.to_owned(), true))
}

#[expect(clippy::unnecessary_wraps, reason = "compared with `outcome`")]
fn redirect(to: &str) -> Result<(String, bool), &'static str> {
    Ok((to.to_owned(), false))
}

#[test]
fn unknown_pairs_and_empty_pieces_are_dropped_before_the_canonical_check() {
    assert_eq!(outcome("width=800&utm_source=x"), canon("width=800"));
    assert_eq!(outcome("utm_source=x&&width=800"), canon("width=800"));
    assert_eq!(outcome("&width=800&"), canon("width=800"));
    assert_eq!(
        outcome("width=800&&height=600"),
        canon("width=800&height=600")
    );
    assert_eq!(outcome(""), canon(""));
    assert_eq!(outcome("&&&"), canon(""));
    assert_eq!(outcome("utm=1"), canon(""));
    // Names are case-sensitive; a malformed escape in an unknown pair is never looked at.
    assert_eq!(outcome("Width=0&x=%G1&%G1=5&width%=1"), canon(""));
    // A leading `?` is part of the first name, so that pair is unknown.
    assert_eq!(outcome("?width=5"), canon(""));
}

#[test]
fn names_are_form_decoded() {
    assert_eq!(outcome("wid%74h=5"), redirect("width=5"));
    assert_eq!(outcome("wid%74h=5&width=6"), Err("duplicate_param"));
    assert_eq!(outcome("watermark%54ext=a"), redirect("watermarkText=a"));
    assert_eq!(outcome("width+=5"), canon(""));
}

#[test]
fn duplicates_are_checked_before_values() {
    assert_eq!(
        outcome("width=abc&height=1&width=2"),
        Err("duplicate_param")
    );
    assert_eq!(outcome("flip=1&flip=1"), Err("duplicate_param"));
    assert_eq!(
        outcome("watermarkText&watermarkText="),
        Err("duplicate_param")
    );
    assert_eq!(
        parse("blur=x&rotate=1&rotate=2"),
        Err(UrlError::DuplicateParam(Param::Rotate))
    );
}

#[test]
fn values_are_checked_in_query_order() {
    assert_eq!(outcome("width=0&height=abc"), Err("out_of_range"));
    assert_eq!(outcome("height=abc&width=0"), Err("bad_value"));
}

#[test]
fn integers() {
    assert_eq!(outcome("width=1"), canon("width=1"));
    assert_eq!(outcome("width=8192"), canon("width=8192"));
    assert_eq!(outcome("width=0800"), redirect("width=800"));
    assert_eq!(outcome("width=%38%30%30"), redirect("width=800"));
    for (q, code) in [
        ("width=", "bad_value"),
        ("width", "bad_value"),
        ("width=+5", "bad_value"),
        ("width=%2B5", "bad_value"),
        ("width=-", "bad_value"),
        ("width=--5", "bad_value"),
        ("width=5-", "bad_value"),
        ("width=5.0", "bad_value"),
        ("width=%G1", "bad_value"),
        ("width=5%", "bad_value"),
        ("width=99999999999999999999x", "bad_value"),
        ("width=0", "out_of_range"),
        ("width=-0", "out_of_range"),
        ("width=-5", "out_of_range"),
        ("width=8193", "out_of_range"),
        ("width=99999999999999999999", "out_of_range"),
        ("height=4294967297", "out_of_range"),
        ("quality=0", "out_of_range"),
        ("quality=101", "out_of_range"),
        ("quality=356", "out_of_range"),
        ("rotate=9223372036854775808", "out_of_range"),
        ("rotate=-9223372036854775809", "out_of_range"),
    ] {
        assert_eq!(outcome(q), Err(code), "{q}");
    }
    assert_eq!(
        outcome(&format!("width={}8", "0".repeat(5000))),
        redirect("width=8")
    );
}

#[test]
fn rotation() {
    assert_eq!(outcome("rotate=-90"), redirect("rotate=270"));
    assert_eq!(outcome("rotate=720"), redirect(""));
    assert_eq!(outcome("rotate=-0"), redirect(""));
    assert_eq!(outcome("rotate=0"), redirect(""));
    assert_eq!(outcome("rotate=359"), canon("rotate=359"));
    assert_eq!(outcome("rotate=360"), redirect(""));
    assert_eq!(outcome("rotate=9223372036854775807"), redirect("rotate=7"));
    assert_eq!(
        outcome("rotate=-9223372036854775808"),
        redirect("rotate=352")
    );
}

#[test]
fn booleans_fit_format() {
    assert_eq!(
        outcome("flip=1&mirror=1&grayscale=1"),
        canon("flip=1&mirror=1&grayscale=1")
    );
    assert_eq!(
        outcome("grayscale=1&flip=true"),
        redirect("flip=1&grayscale=1")
    );
    assert_eq!(outcome("flip=0&mirror=false"), redirect(""));
    for q in [
        "flip=",
        "flip",
        "flip=TRUE",
        "flip=2",
        "flip=yes",
        "mirror=01",
        "flip=true%00",
    ] {
        assert_eq!(outcome(q), Err("bad_value"), "{q}");
    }
    assert_eq!(outcome("flip=%31"), redirect("flip=1"));
    assert_eq!(
        outcome("width=1&height=2&fit=fill"),
        canon("width=1&height=2&fit=fill")
    );
    assert_eq!(
        outcome("width=1&height=2&fit=cover"),
        redirect("width=1&height=2")
    );
    assert_eq!(outcome("width=1&fit=fill"), redirect("width=1"));
    assert_eq!(outcome("fit=outside"), redirect(""));
    assert_eq!(outcome("fit=Cover"), Err("bad_value"));
    assert_eq!(outcome("width=1&fit=bogus"), Err("bad_value"));
    assert_eq!(outcome("fit=outsidex"), Err("bad_value"));
    assert_eq!(outcome("format=jpg"), redirect("format=jpeg"));
    assert_eq!(outcome("format=avif"), canon("format=avif"));
    assert_eq!(outcome("format=JPEG"), Err("bad_value"));
    assert_eq!(outcome("format=gif"), Err("bad_value"));
    assert_eq!(outcome("quality=80"), redirect(""));
    assert_eq!(
        outcome("quality=79&format=webp"),
        canon("quality=79&format=webp")
    );
}

#[test]
fn resize_keeps_fit_only_with_both_dimensions() {
    let p = parse("fit=contain&height=3&width=2").expect("valid");
    assert_eq!(p.spec().fit(), Some(Fit::Contain));
    assert_eq!(p.spec().width().map(Dimension::get), Some(2));
    assert_eq!(p.spec().canonical_query(), "width=2&height=3&fit=contain");
    let p = parse("height=3&fit=contain").expect("valid");
    assert_eq!(
        p.spec().resize,
        Resize::Height(Dimension::new(3).expect("in range"))
    );
}

#[test]
fn blur_rounds_on_exact_digits() {
    for (q, expected) in [
        ("blur=2", canon("blur=2")),
        ("blur=2.5", canon("blur=2.5")),
        ("blur=2.0", redirect("blur=2")),
        ("blur=02.5", redirect("blur=2.5")),
        ("blur=0.25", redirect("blur=0.3")),
        ("blur=0.3", canon("blur=0.3")),
        ("blur=2.449", redirect("blur=2.4")),
        ("blur=2.45", redirect("blur=2.5")),
        ("blur=2.4999999999999999999999", redirect("blur=2.5")),
        ("blur=99.95", redirect("blur=100")),
        ("blur=100", canon("blur=100")),
        ("blur=100.04", redirect("blur=100")),
        ("blur=0", redirect("")),
        ("blur=0.04", redirect("")),
        ("blur=0.0", redirect("")),
        ("blur=000", redirect("")),
    ] {
        assert_eq!(outcome(q), expected, "{q}");
    }
    for (q, code) in [
        ("blur=.5", "bad_value"),
        ("blur=5.", "bad_value"),
        ("blur=1e3", "bad_value"),
        ("blur=", "bad_value"),
        ("blur=-", "bad_value"),
        ("blur=-.5", "bad_value"),
        ("blur=1.2.3", "bad_value"),
        ("blur=+1", "bad_value"),
        ("blur=-1", "out_of_range"),
        ("blur=-0", "out_of_range"),
        ("blur=0.05", "out_of_range"),
        ("blur=0.1", "out_of_range"),
        ("blur=0.24", "out_of_range"),
        ("blur=100.05", "out_of_range"),
        ("blur=101", "out_of_range"),
        ("blur=99999999999999999999999999", "out_of_range"),
    ] {
        assert_eq!(outcome(q), Err(code), "{q}");
    }
}

#[test]
fn watermark_text() {
    assert_eq!(outcome("watermarkText=abc"), canon("watermarkText=abc"));
    assert_eq!(
        outcome("watermarkText=a+b%2f%c3%a9"),
        redirect("watermarkText=a%20b%2F%C3%A9")
    );
    assert_eq!(
        outcome("watermarkText=A-Z.a_z~0%20%2A"),
        canon("watermarkText=A-Z.a_z~0%20%2A")
    );
    // NFD input becomes NFC.
    assert_eq!(
        outcome("watermarkText=e%CC%81"),
        redirect("watermarkText=%C3%A9")
    );
    // Raw UTF-8 in the query is accepted, never canonical.
    assert_eq!(outcome("watermarkText=é"), redirect("watermarkText=%C3%A9"));
    assert_eq!(
        outcome("watermarkText=%F0%9F%91%8D"),
        canon("watermarkText=%F0%9F%91%8D")
    );
    assert_eq!(outcome("watermarkText="), redirect(""));
    assert_eq!(outcome("watermarkText"), redirect(""));
    assert_eq!(outcome("watermarkText=%3D&x"), canon("watermarkText=%3D"));
    assert_eq!(
        outcome("watermarkText=a=b"),
        redirect("watermarkText=a%3Db")
    );
    for (q, code) in [
        ("watermarkText=%0A", "bad_value"),
        ("watermarkText=a%7F", "bad_value"),
        ("watermarkText=a%C2%85", "bad_value"),
        ("watermarkText=%C3", "bad_value"),
        ("watermarkText=%ED%A0%80", "bad_value"),
        ("watermarkText=%4", "bad_value"),
    ] {
        assert_eq!(outcome(q), Err(code), "{q}");
    }
    let max = "x".repeat(64);
    assert_eq!(
        outcome(&format!("watermarkText={max}")),
        canon(&format!("watermarkText={max}"))
    );
    assert_eq!(
        outcome(&format!("watermarkText={max}x")),
        Err("out_of_range")
    );
    // 65 scalars before NFC, 64 after: valid.
    let nfd = format!("{}e%CC%81", "x".repeat(63));
    assert_eq!(
        outcome(&format!("watermarkText={nfd}")).map(|c| c.1),
        Ok(false)
    );
}

#[test]
fn canonical_query_writes_every_parameter_in_table_order() {
    let extent = |v| std::num::NonZeroU16::new(v).expect("not zero");
    let spec = TransformSpec {
        crop: Some(Crop::new(0, 7, extent(65535), extent(1))),
        resize: Resize::Box {
            width: Dimension::new(8192).expect("in range"),
            height: Dimension::new(1).expect("in range"),
            fit: Fit::Cover(Gravity::point(250, 0).expect("in range")),
        },
        dpr: Dpr::from_tenths(15),
        rotate: Rotation::from_degrees(-1),
        flip: true,
        mirror: true,
        grayscale: true,
        blur: Blur::from_tenths(3),
        sharpen: Sharpen::from_tenths(100),
        background: Colour::from_hex(b"FF000080"),
        quality: Quality::new(100).expect("in range"),
        palette: true,
        format: FormatChoice::Fixed(Format::Png),
        watermark: WatermarkText::new("Hé 👍").ok(),
    };
    let q = "crop=0,7,65535,1&width=8192&height=1&dpr=1.5&gravity=0.25,0&rotate=359&flip=1\
             &mirror=1&grayscale=1&blur=0.3&sharpen=10&background=ff000080&quality=100&palette=1\
             &format=png&watermarkText=H%C3%A9%20%F0%9F%91%8D";
    assert_eq!(spec.canonical_query(), q);
    assert_eq!(spec.canonical().to_string(), q);
    assert_eq!(outcome(q), canon(q));
    assert_eq!(parse(q).map(ParsedQuery::into_spec), Ok(spec));
}

#[test]
fn error_messages_name_the_parameter() {
    let e = parse("width=0").expect_err("invalid");
    assert_eq!(e.to_string(), "width must be an integer from 1 to 8192");
    assert_eq!(e.param(), Some(Param::Width));
    assert_eq!(e.status(), 400);
    let e = parse("flip=1&flip=0").expect_err("invalid");
    assert_eq!(e.to_string(), "flip must be given at most once");
    assert!(
        parse("watermarkText=%00")
            .expect_err("invalid")
            .to_string()
            .starts_with("watermarkText ")
    );
}

const SECRET: [u8; 32] = [0x42; 32];
const ID: &str = "9c5b94b1-35ad-49bb-b118-8e8fc24abf80";

fn key() -> UrlKey {
    UrlKey::derive(
        &UrlSecret::from_bytes(SECRET),
        &ID.parse().expect("valid id"),
    )
}

#[test]
fn requests() {
    let secret = UrlSecret::from_bytes(SECRET);
    let id: ImageId = ID.parse().expect("valid id");
    let spec = parse("width=800").expect("valid").into_spec();
    let path = signed_path(&key(), &id, &spec);
    let (p, q) = path.split_once('?').expect("has a query");
    assert_eq!(q, "width=800");
    let req = TransformRequest::parse(p, q).expect("valid");
    assert_eq!(req.decide_with_secret(&secret), Decision::Serve);
    assert_eq!(req.redirect_location(), None);
    assert_eq!(req.variant_key(None), format!("v/{ID}/{}", req.sig()));
    assert_eq!(id.original_key(), format!("o/{ID}"));

    let req = TransformRequest::parse(p, "width=0800&utm=1").expect("valid");
    assert_eq!(
        req.decide_with_secret(&secret),
        Decision::Redirect(path.clone())
    );
    assert_eq!(req.redirect_location().as_deref(), Some(path.as_str()));
    assert_eq!(req.canonical_path(), path);

    // Another query, another image, another secret: 403.
    let req = TransformRequest::parse(p, "width=801").expect("valid");
    assert_eq!(req.decide_with_secret(&secret).status(), 403);
    let other = p.replace("9c5b", "9c5c");
    let req = TransformRequest::parse(&other, q).expect("valid");
    assert_eq!(req.decide_with_secret(&secret), Decision::Forbidden);
    let req = TransformRequest::parse(p, q).expect("valid");
    assert!(!req.verify(&UrlSecret::from_bytes([0x43; 32])));

    // The default spec has no `?`; a redirect to it has none either.
    let path = signed_path(&key(), &id, &TransformSpec::default());
    assert!(!path.contains('?'));
    let req = TransformRequest::parse(&path, "flip=0").expect("valid");
    assert_eq!(req.redirect_location(), Some(path.clone()));
    let req = TransformRequest::parse(&path, "").expect("valid");
    assert_eq!(req.decide_with_secret(&secret), Decision::Serve);
    let req = TransformRequest::parse(&path, "utm_source=x").expect("valid");
    assert_eq!(req.decide_with_secret(&secret), Decision::Serve);
}

#[test]
fn path_errors_come_first() {
    let sig = "AAAAAAAAAAAAAAAAAAAAAA";
    let ok = format!("/i/{ID}/{sig}");
    assert!(TransformRequest::parse(&ok, "").is_ok());
    for (path, q, code) in [
        (
            format!("/i/{}/{sig}", ID.to_uppercase()),
            "width=0",
            "bad_image_id",
        ),
        (format!("/i/{}/{sig}", &ID[1..]), "", "bad_image_id"),
        (format!("/x/{ID}/{sig}"), "", "bad_image_id"),
        (format!("/i/{ID}"), "", "bad_sig"),
        (format!("/i/{ID}/"), "", "bad_sig"),
        (format!("/i/{ID}/{sig}/"), "", "bad_sig"),
        (format!("/i/{ID}/{sig}A"), "", "bad_sig"),
        (format!("/i/{ID}/{}", &sig[1..]), "width=0", "bad_sig"),
        (format!("/i/{ID}/{}B", &sig[1..]), "", "bad_sig"),
        (ok.clone(), "width=0", "out_of_range"),
        (String::new(), "", "bad_image_id"),
    ] {
        assert_eq!(
            TransformRequest::parse(&path, q).map_err(UrlError::code),
            Err(code),
            "{path}?{q}"
        );
    }
}

// ---- property tests ----

fn dimension() -> impl Strategy<Value = Dimension> {
    (1u32..=8192).prop_filter_map("in range", Dimension::new)
}

fn resize() -> impl Strategy<Value = Resize> {
    prop_oneof![
        Just(Resize::Original),
        dimension().prop_map(Resize::Width),
        dimension().prop_map(Resize::Height),
        (
            dimension(),
            dimension(),
            prop::sample::select(Fit::ALL.to_vec()),
            gravity(),
        )
            .prop_map(|(width, height, fit, gravity)| Resize::Box {
                width,
                height,
                fit: if fit == Fit::COVER {
                    Fit::Cover(gravity)
                } else {
                    fit
                },
            }),
    ]
}

fn gravity() -> impl Strategy<Value = Gravity> {
    prop_oneof![
        prop::sample::select(
            [
                "center",
                "north",
                "northeast",
                "east",
                "southeast",
                "south",
                "southwest",
                "west",
                "northwest",
                "attention",
                "entropy",
            ]
            .to_vec()
        )
        .prop_filter_map("a word", |w| Gravity::from_word(w.as_bytes())),
        (0u16..=1000, 0u16..=1000).prop_filter_map("in range", |(x, y)| Gravity::point(x, y)),
    ]
}

fn crop() -> impl Strategy<Value = Crop> {
    (any::<u16>(), any::<u16>(), 1u16.., 1u16..).prop_filter_map("in range", |(x, y, w, h)| {
        Crop::from_numbers([x, y, w, h].map(i64::from))
    })
}

fn format_choice() -> impl Strategy<Value = FormatChoice> {
    prop_oneof![
        Just(FormatChoice::Original),
        Just(FormatChoice::Auto),
        prop::sample::select(Format::ALL.to_vec()).prop_map(FormatChoice::Fixed),
    ]
}

fn watermark() -> impl Strategy<Value = WatermarkText> {
    let ch = prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            'e', '\u{301}', ' ', '%', '+', '&', '=', '~', '한', '👍'
        ]),
    ]
    .prop_filter("no Cc", |c| !c.is_control());
    prop::collection::vec(ch, 1..=64).prop_filter_map("valid", |cs| {
        WatermarkText::new(&cs.into_iter().collect::<String>()).ok()
    })
}

fn spec() -> impl Strategy<Value = TransformSpec> {
    let v1 = (
        resize(),
        (0u16..360).prop_filter_map("in range", Rotation::new),
        any::<(bool, bool, bool)>(),
        prop::option::of((3u16..=1000).prop_filter_map("in range", Blur::from_tenths)),
        prop_oneof![Just(80u8), 1u8..=100].prop_filter_map("in range", Quality::new),
        format_choice(),
        prop::option::of(watermark()),
    );
    let v1_1 = (
        prop::option::of(crop()),
        prop::option::of((11u8..=40).prop_filter_map("in range", Dpr::from_tenths)),
        prop::option::of((3u8..=100).prop_filter_map("in range", Sharpen::from_tenths)),
        prop::option::of(
            any::<[u8; 4]>().prop_map(|[red, green, blue, alpha]| Colour {
                red,
                green,
                blue,
                alpha,
            }),
        ),
        any::<bool>(),
    );
    (v1, v1_1).prop_map(
        |(
            (resize, rotate, (flip, mirror, grayscale), blur, quality, format, watermark),
            (crop, dpr, sharpen, background, palette),
        )| TransformSpec {
            crop,
            resize,
            // A ratio counts only with a dimension, as the parser keeps it.
            dpr: dpr.filter(|_| resize != Resize::Original),
            rotate,
            flip,
            mirror,
            grayscale,
            blur,
            sharpen,
            background,
            quality,
            palette,
            format,
            watermark,
        },
    )
}

/// Form-encodes `s`, each byte spelt in one of the ways a client may choose.
fn messy_encode(s: &str, choices: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let choice = choices.get(i % choices.len().max(1)).copied().unwrap_or(0) % 4;
        let written = match (b, choice) {
            (b' ', 0) => out.write_char('+'),
            (b'&' | b'=' | b'%' | b'+' | b'#', _) | (_, 1) => write!(out, "%{b:02X}"),
            (_, 2) => write!(out, "%{b:02x}"),
            _ if b.is_ascii() => out.write_char(char::from(b)),
            _ => write!(out, "%{b:02X}"),
        };
        assert!(written.is_ok());
    }
    out
}

fn raw_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?0{0,2}[0-9]{1,5}",
        "-?0{0,2}[0-9]{1,3}(\\.[0-9]{1,3})?",
        prop::sample::select(vec![
            "cover", "contain", "fill", "inside", "outside", "jpeg", "jpg", "png", "webp", "avif",
            "true", "false", "1", "0", "", "Cover", "e\u{301}", "a b", "%",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,70}",
        any::<String>(),
    ]
}

fn value_for(name: &'static str) -> BoxedStrategy<String> {
    let specific: BoxedStrategy<String> = match name {
        "width" | "height" => "0{0,2}[1-9][0-9]{0,3}".boxed(),
        "rotate" => "-?[0-9]{1,4}".boxed(),
        "quality" => "0?[1-9][0-9]?".boxed(),
        "blur" | "dpr" | "sharpen" => "0?[0-9]{1,2}(\\.[0-9]{1,3})?".boxed(),
        "flip" | "mirror" | "grayscale" | "palette" => {
            prop::sample::select(vec!["1", "true", "0", "false"])
                .prop_map(str::to_owned)
                .boxed()
        }
        "crop" => "-?0?[0-9]{1,5}(,0?[0-9]{1,5}){2,4}".boxed(),
        "gravity" => prop_oneof![
            "(center|centre|north|east|southwest|attention|entropy|North)",
            "-?0?[01](\\.[0-9]{1,4})?(,|%2C|%2c)[01](\\.[0-9]{1,4})?",
        ]
        .boxed(),
        "background" => "[0-9a-fA-F]{6}([0-9a-fA-F]{2})?|#?[0-9a-f]{3,7}".boxed(),
        "fit" => prop::sample::select(Fit::ALL.to_vec())
            .prop_map(|f| f.as_str().to_owned())
            .boxed(),
        "format" => prop::sample::select(vec!["jpeg", "jpg", "png", "webp", "avif", "auto"])
            .prop_map(str::to_owned)
            .boxed(),
        "watermarkText" => prop_oneof!["\\PC{0,70}", "[a-z \u{301}]{0,10}"].boxed(),
        _ => raw_value().boxed(),
    };
    prop_oneof![6 => specific, 1 => raw_value()].boxed()
}

fn messy_pair(name: &'static str) -> impl Strategy<Value = String> {
    (
        value_for(name),
        prop::collection::vec(any::<u8>(), 1..8),
        0u8..10,
    )
        .prop_map(move |(value, choices, shape)| match shape {
            0 => String::new(),
            1 => name.to_owned(),
            2 | 3 => format!(
                "{}={}",
                messy_encode(name, &choices),
                messy_encode(&value, &choices)
            ),
            _ => format!("{name}={}", messy_encode(&value, &[3])),
        })
}

fn messy_query() -> impl Strategy<Value = String> {
    let names: Vec<&'static str> = Param::ALL
        .iter()
        .map(|p| p.name())
        .chain(["utm_source", "Width", "", "x"])
        .collect();
    let unique = prop::sample::subsequence(names.clone(), 0..8)
        .prop_flat_map(|names| names.into_iter().map(messy_pair).collect::<Vec<_>>())
        .prop_shuffle();
    let extra = prop::collection::vec(prop::sample::select(names).prop_flat_map(messy_pair), 0..2);
    (unique, extra, any::<bool>()).prop_map(|(mut pairs, extra, add)| {
        if add {
            pairs.extend(extra);
        }
        pairs.join("&")
    })
}

/// The decision-10 filtered query, computed naively.
fn reference_filtered(q: &str) -> String {
    q.split('&')
        .filter(|piece| {
            let name = piece.split_once('=').map_or(*piece, |(n, _)| n);
            let decoded: Option<Vec<u8>> = decode::FormDecoder::new(name).map(Result::ok).collect();
            decoded.is_some_and(|d| Param::ALL.iter().any(|p| p.name().as_bytes() == d))
        })
        .collect::<Vec<_>>()
        .join("&")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn build_canonical_parse_round_trips(spec in spec()) {
        let q = spec.canonical_query();
        let parsed = TransformSpec::parse(&q).expect("the canonical query of a spec is valid");
        prop_assert!(parsed.is_canonical(), "{q}");
        prop_assert_eq!(parsed.spec(), &spec);
        prop_assert_eq!(spec.canonical().to_string(), q.clone());
        prop_assert_eq!(spec.is_default(), q.is_empty());
    }

    #[test]
    fn canonicalising_is_idempotent(q in messy_query()) {
        if let Ok(parsed) = TransformSpec::parse(&q) {
            let c = parsed.spec().canonical_query();
            let again = TransformSpec::parse(&c).expect("canonical re-parses");
            prop_assert!(again.is_canonical(), "{q} -> {c}");
            prop_assert_eq!(again.spec(), parsed.spec());
            prop_assert_eq!(parsed.is_canonical(), reference_filtered(&q) == c, "{} -> {}", q, c);
        }
    }

    #[test]
    fn a_sig_verifies_only_its_query_and_key(
        spec in spec(),
        key in any::<[u8; 32]>(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..0x80,
    ) {
        let key = UrlKey::from_bytes(key);
        let q = spec.canonical_query();
        let sig = Sig::for_spec(&key, &spec);
        prop_assert_eq!(sig, Sig::compute(&key, &q));
        prop_assert!(sig.verify(&key, &q));
        prop_assert!(sig.verify_spec(&key, &spec));
        prop_assert_eq!(sig.to_string().parse::<Sig>(), Ok(sig));
        if !q.is_empty() {
            // The canonical query is ASCII, and so is the tampered one.
            let mut bytes = q.clone().into_bytes();
            bytes[at.index(q.len())] ^= flip;
            let tampered = String::from_utf8(bytes).expect("ascii");
            prop_assert!(!sig.verify(&key, &tampered));
            prop_assert!(!sig.verify(&key, &q[..q.len() - 1]));
        }
        let longer = format!("{q}&");
        prop_assert!(!sig.verify(&key, &longer));
        let mut other = *key.as_bytes();
        other[at.index(32)] ^= flip;
        prop_assert!(!sig.verify(&UrlKey::from_bytes(other), &q));
        let mut tampered = *sig.as_bytes();
        tampered[at.index(16)] ^= flip;
        prop_assert!(!Sig::from_bytes(tampered).verify(&key, &q));
    }

    #[test]
    fn minted_paths_are_served(spec in spec(), id in any::<u128>()) {
        let secret = UrlSecret::from_bytes(SECRET);
        let id = ImageId::from_uuid(uuid::Uuid::from_u128(id));
        let path = signed_path(&UrlKey::derive(&secret, &id), &id, &spec);
        let (p, q) = path.split_once('?').unwrap_or((&path, ""));
        let req = TransformRequest::parse(p, q).expect("minted paths parse");
        prop_assert_eq!(req.decide_with_secret(&secret), Decision::Serve);
        prop_assert_eq!(req.spec(), &spec);
        prop_assert_eq!(req.canonical_path(), path.clone());
    }

    #[test]
    fn the_parser_never_panics(path in any::<String>(), q in any::<String>()) {
        let _ = TransformRequest::parse(&path, &q);
        let _ = TransformSpec::parse(&q);
    }

    #[test]
    fn the_parser_never_panics_on_near_misses(
        path in "/i/[0-9a-f-]{30,40}/[A-Za-z0-9_=+/-]{20,24}",
        q in "[a-zA-Z0-9%&=+.~_-]{0,60}",
    ) {
        if let Ok(req) = TransformRequest::parse(&path, &q) {
            let c = req.spec().canonical_query();
            prop_assert!(TransformSpec::parse(&c).is_ok_and(|p| p.is_canonical()));
        }
    }
}

#[test]
fn test_key_is_stable() {
    // Derivation is BLAKE3-keyed(secret, id as ASCII).
    let expected = blake3::keyed_hash(&SECRET, ID.as_bytes());
    assert_eq!(key().as_bytes(), expected.as_bytes());
}

#[test]
fn known_query_drops_what_a_cdn_would_not_forward() {
    use super::known_query;
    assert_eq!(
        known_query("width=800&format=webp"),
        "width=800&format=webp"
    );
    assert!(matches!(
        known_query("width=800"),
        std::borrow::Cow::Borrowed(_)
    ));
    assert_eq!(known_query("utm_source=x&width=800&&Width=3"), "width=800");
    // Names match after decoding, like the parser; values are kept raw.
    assert_eq!(known_query("%77idth=8%30&x"), "%77idth=8%30");
    assert_eq!(known_query("format=jpg&width=09"), "format=jpg&width=09");
    assert_eq!(known_query(""), "");
    assert_eq!(known_query("a=1&b=2"), "");
}

// ---- version 1.1 ----

#[test]
fn the_spec_examples_of_version_1_1() {
    for (q, want) in [
        ("crop=1,2,3", Err("bad_value")),
        ("dpr=x", Err("bad_value")),
        ("gravity=up", Err("bad_value")),
        ("background=%23ffffff", Err("bad_value")),
        ("background=fff", Err("bad_value")),
        ("crop=0,0,0,10", Err("out_of_range")),
        ("crop=-1,0,10,10", Err("out_of_range")),
        ("crop=-1,2,3", Err("bad_value")),
        ("dpr=0.5", Err("out_of_range")),
        ("width=10&dpr=4.05", Err("out_of_range")),
        ("width=10&dpr=4.04", redirect("width=10&dpr=4")),
        ("width=10&dpr=1.05", redirect("width=10&dpr=1.1")),
        ("width=10&dpr=0.95", redirect("width=10")),
        ("sharpen=10.1", Err("out_of_range")),
        ("sharpen=0.2", Err("out_of_range")),
        ("sharpen=0.25", redirect("sharpen=0.3")),
        ("sharpen=0", redirect("")),
        ("gravity=1.2,0.5", Err("out_of_range")),
        ("gravity=-0.5,0.5", Err("out_of_range")),
        ("gravity=0.5", Err("bad_value")),
        ("gravity=0.5,0.5,0.5", Err("bad_value")),
        ("gravity=North", Err("bad_value")),
        // Validated where the canonical form drops them.
        ("dpr=0.5", Err("out_of_range")),
        ("width=10&gravity=up", Err("bad_value")),
        ("dpr=2", redirect("")),
        ("width=10&gravity=north", redirect("width=10")),
        (
            "width=10&height=10&fit=contain&gravity=north",
            redirect("width=10&height=10&fit=contain"),
        ),
        // Canonical forms.
        (
            "width=10&height=10&gravity=1.0004,0",
            redirect("width=10&height=10&gravity=1,0"),
        ),
        (
            "width=10&height=10&gravity=0.25%2C0.4",
            redirect("width=10&height=10&gravity=0.25,0.4"),
        ),
        (
            "width=10&height=10&gravity=0.25,0.4",
            canon("width=10&height=10&gravity=0.25,0.4"),
        ),
        (
            "width=10&height=10&gravity=centre",
            redirect("width=10&height=10"),
        ),
        (
            "width=10&height=10&gravity=0.5,0.5",
            redirect("width=10&height=10"),
        ),
        (
            "width=10&height=10&gravity=attention",
            canon("width=10&height=10&gravity=attention"),
        ),
        ("crop=01,2,3,4", redirect("crop=1,2,3,4")),
        ("crop=1%2C2%2C3%2C4", redirect("crop=1,2,3,4")),
        ("background=FFFFFF", redirect("background=ffffff")),
        ("background=ffffffFF", redirect("background=ffffff")),
        ("palette=true", redirect("palette=1")),
        ("palette=0", redirect("")),
        ("format=auto", canon("format=auto")),
        ("format=auto&palette=1", redirect("palette=1&format=auto")),
        // The first invalid parameter in query order, duplicates before all.
        ("sharpen=11&crop=x", Err("out_of_range")),
        ("crop=x&sharpen=11", Err("bad_value")),
        ("crop=x&dpr=2&dpr=2", Err("duplicate_param")),
    ] {
        assert_eq!(outcome(q), want, "{q}");
    }
}

#[test]
fn dpr_multiplies_the_resize_rounding_halves_up_and_capping() {
    let scaled = |q: &str| {
        parse(q).map(|p| p.spec().scaled_resize()).map(|r| {
            (
                r.width().map(Dimension::get),
                r.height().map(Dimension::get),
            )
        })
    };
    assert_eq!(scaled("width=3&dpr=1.5"), Ok((Some(5), None)));
    assert_eq!(
        scaled("width=8000&height=10&dpr=4"),
        Ok((Some(8192), Some(40)))
    );
    assert_eq!(scaled("height=7"), Ok((None, Some(7))));
}

#[test]
fn a_focus_fills_only_a_cover_that_names_no_gravity() {
    let focused = |q: &str| {
        parse(q)
            .expect("valid")
            .into_spec()
            .with_focus(250, 400)
            .canonical_query()
    };
    assert_eq!(
        focused("width=10&height=20"),
        "width=10&height=20&gravity=0.25,0.4"
    );
    assert_eq!(
        focused("width=10&height=20&gravity=center"),
        "width=10&height=20&gravity=0.25,0.4",
        "the centre is what a cover keeps when it names nothing"
    );
    for kept in [
        "width=10&height=20&gravity=north",
        "width=10&height=20&gravity=0.1,0.9",
        "width=10&height=20&fit=contain",
        "crop=0,0,50,50&width=10&height=20",
        "width=10",
        "",
    ] {
        let spec = parse(kept).expect("valid").into_spec();
        assert_eq!(spec.clone().with_focus(250, 400), spec, "{kept}");
    }
    // The centre as a focus is no gravity at all.
    let plain = parse("width=10&height=20").expect("valid").into_spec();
    assert_eq!(plain.clone().with_focus(500, 500), plain);
}
