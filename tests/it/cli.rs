//! The `imgedge` binary as users and scripts run it: `render` and `url`.

use std::process::Command;

use serde_json::Value;

fn imgedge(args: &[&str]) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_imgedge"))
        .args(args)
        .env_remove("IMGEDGE_URL_SECRET")
        .output()
        .expect("imgedge runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let json = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is one JSON object ({e}): {stdout:?}"));
    (out.status.success(), json)
}

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/url-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("JSON")
}

#[test]
fn url_prints_what_the_shared_vectors_say() {
    let vectors = vectors();
    let secret = vectors["url_secret"].as_str().expect("url_secret");
    let cases = vectors["cases"].as_array().expect("cases");
    // One case of each kind is enough here: the library is checked against all of them.
    for expect in ["canonical", "redirect", "error"] {
        let case = cases
            .iter()
            .find(|c| c["expect"] == expect)
            .expect("a case of each kind");
        let id = case["image_id"].as_str().expect("image_id");
        let query = case["query"].as_str().expect("query");
        let (ok, out) = imgedge(&["url", "--url-secret", secret, "--image-id", id, query]);
        if expect == "error" {
            assert!(!ok, "{query}: exit status must be non-zero");
            assert_eq!(out["error"], case["error"], "{query}");
        } else {
            assert!(ok, "{query}: {out}");
            assert_eq!(out["canonical"], expect == "canonical", "{query}");
            assert_eq!(out["canonical_query"], case["canonical_query"], "{query}");
            assert_eq!(out["sig"], case["sig"], "{query}");
            assert_eq!(out["path"], case["path"], "{query}");
            let key = vectors["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .find(|k| k["image_id"] == id)
                .expect("key of the case's image");
            assert_eq!(out["url_key"], key["url_key"]);
        }
    }
}

#[test]
fn url_with_accept_prints_the_class_cache_key_and_s3_key_of_every_accept_vector() {
    let vectors = vectors();
    let secret = vectors["url_secret"].as_str().expect("url_secret");
    for case in vectors["accept"].as_array().expect("accept vectors") {
        let name = case["name"].as_str().expect("name");
        let path = case["path"].as_str().expect("path");
        let id = path.split('/').nth(2).expect("an image id in the path");
        let query = case["query"].as_str().expect("query");
        let mut args = vec!["url", "--url-secret", secret, "--image-id", id, query];
        if let Some(accept) = case["accept"].as_str() {
            args.extend(["--accept", accept]);
        }
        let (ok, out) = imgedge(&args);
        assert!(ok, "{name}: {out}");
        assert_eq!(
            out["path"].as_str().map(|p| p.split('?').next()),
            Some(Some(path))
        );
        for field in ["accept_class", "cache_key", "s3_key"] {
            assert_eq!(out[field], case[field], "{name}: {field}");
        }
    }
}

#[test]
fn url_derives_the_key_of_every_epoch() {
    let vectors = vectors();
    let secret = vectors["url_secret"].as_str().expect("url_secret");
    for key in vectors["keys"].as_array().expect("keys") {
        let id = key["image_id"].as_str().expect("image_id");
        let epoch = key["epoch"].to_string();
        let args = [
            "url",
            "--url-secret",
            secret,
            "--image-id",
            id,
            "--key-epoch",
            &epoch,
        ];
        let (ok, out) = imgedge(&args);
        assert!(ok, "{out}");
        assert_eq!(out["url_key"], key["url_key"], "{id} at epoch {epoch}");
    }
}

#[test]
fn url_rejects_a_bad_image_id_with_its_code() {
    let secret = "00".repeat(32);
    let (ok, out) = imgedge(&[
        "url",
        "--url-secret",
        &secret,
        "--image-id",
        "NOT-A-UUID",
        "",
    ]);
    assert!(!ok);
    assert_eq!(out["error"], "bad_image_id");
}

#[test]
fn render_writes_the_variant_and_reports_it() {
    let dir = tempdir();
    let out_path = dir.path().join("small.webp");
    let input = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/photos/oriented-6-gps.jpg"
    );
    let (ok, out) = imgedge(&[
        "render",
        "--in",
        input,
        "--out",
        out_path.to_str().expect("UTF-8 path"),
        "format=webp&width=0400",
    ]);
    assert!(ok, "{out}");
    assert_eq!(out["canonical_query"], "width=400&format=webp");
    assert_eq!(out["format"], "webp");
    // The photo is stored 600x800 with EXIF orientation 6: upright it is 800x600.
    assert_eq!(
        (out["width"].as_u64(), out["height"].as_u64()),
        (Some(400), Some(300))
    );
    let written = std::fs::read(&out_path).expect("output written");
    assert_eq!(Some(written.len() as u64), out["bytes"].as_u64());
    assert_eq!(&written[8..12], b"WEBP");
}

#[test]
fn render_refuses_a_pdf_named_jpg_and_writes_nothing() {
    let dir = tempdir();
    let input = dir.path().join("invoice.jpg");
    std::fs::write(
        &input,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
    )
    .expect("write input");
    let out_path = dir.path().join("out.jpg");
    let (ok, out) = imgedge(&[
        "render",
        "--in",
        input.to_str().expect("UTF-8 path"),
        "--out",
        out_path.to_str().expect("UTF-8 path"),
        "width=100",
    ]);
    assert!(!ok);
    assert_eq!(out["error"], "unsupported_format");
    assert!(!out_path.exists(), "no output for a refused input");
}

#[test]
fn render_refuses_an_invalid_query_with_its_code() {
    let dir = tempdir();
    let input = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/photos/light.jpg");
    let out_path = dir.path().join("out.jpg");
    let path = out_path.to_str().expect("UTF-8 path");
    let (ok, out) = imgedge(&["render", "--in", input, "--out", path, "width=9000"]);
    assert!(!ok);
    assert_eq!(out["error"], "out_of_range");
    let (ok, out) = imgedge(&["render", "--in", input, "--out", path, "width=1&width=2"]);
    assert!(!ok);
    assert_eq!(out["error"], "duplicate_param");
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create temp dir")
}
