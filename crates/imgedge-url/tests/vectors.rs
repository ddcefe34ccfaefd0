//! The shared transform-URL vectors (`testdata/url-vectors.json`): every key derivation,
//! every case and every whole request must come out exactly as the file says. All
//! mismatches are reported together.

use std::collections::HashMap;

use imgedge_url::{
    AcceptClass, Decision, ImageId, KeyEpoch, Sig, TransformRequest, TransformSpec, UrlError,
    UrlKey, UrlSecret, signed_path,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    spec: String,
    url_secret: String,
    keys: Vec<KeyVector>,
    cases: Vec<Case>,
    requests: Vec<Request>,
    accept: Vec<AcceptRequest>,
}

#[derive(Deserialize)]
struct KeyVector {
    image_id: String,
    epoch: u32,
    url_key: String,
}

/// A canonical, signed request with an `Accept` header: what its accept class, cache key
/// and S3 key must be.
#[derive(Deserialize)]
struct AcceptRequest {
    name: String,
    path: String,
    query: String,
    accept: Option<String>,
    client_accept_class: Option<String>,
    accept_class: Option<String>,
    cache_key: String,
    s3_key: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    image_id: String,
    query: String,
    expect: String,
    canonical_query: Option<String>,
    sig: Option<String>,
    path: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Request {
    name: String,
    path: String,
    query: String,
    status: u16,
    error: Option<String>,
    location: Option<String>,
}

fn load() -> Vectors {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/url-vectors.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read testdata/url-vectors.json: {e}"));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("testdata/url-vectors.json does not follow the schema: {e}"))
}

/// Collects mismatches as `name: what`.
#[derive(Default)]
struct Report(Vec<String>);

impl Report {
    fn check<T: PartialEq + std::fmt::Debug + ?Sized>(
        &mut self,
        name: &str,
        what: &str,
        got: &T,
        want: &T,
    ) {
        if got != want {
            self.0
                .push(format!("{name}: {what}: got {got:?}, want {want:?}"));
        }
    }

    fn fail(&mut self, name: &str, what: impl std::fmt::Display) {
        self.0.push(format!("{name}: {what}"));
    }
}

fn check_case(r: &mut Report, keys: &HashMap<String, UrlKey>, case: &Case) {
    let name = case.name.as_str();
    let Some(key) = keys.get(&case.image_id) else {
        return r.fail(name, format!("image_id {} is not in keys", case.image_id));
    };
    let Ok(image_id) = case.image_id.parse::<ImageId>() else {
        return r.fail(name, format!("image_id {} does not parse", case.image_id));
    };
    let parsed = TransformSpec::parse(&case.query);
    match case.expect.as_str() {
        "canonical" | "redirect" => {
            let canonical_expected = case.expect == "canonical";
            let (Some(want_query), Some(want_sig), Some(want_path)) =
                (&case.canonical_query, &case.sig, &case.path)
            else {
                return r.fail(name, "missing canonical_query, sig or path");
            };
            let parsed = match parsed {
                Ok(p) => p,
                Err(e) => return r.fail(name, format!("parse failed: {} ({e})", e.code())),
            };
            let spec = parsed.spec();
            let query = spec.canonical_query();
            r.check(name, "canonical_query", query.as_str(), want_query.as_str());
            r.check(
                name,
                "is_canonical",
                &parsed.is_canonical(),
                &canonical_expected,
            );
            let sig = Sig::compute(key, want_query);
            r.check(name, "sig", sig.to_string().as_str(), want_sig.as_str());
            r.check(name, "sig for spec", &Sig::for_spec(key, spec), &sig);
            r.check(
                name,
                "path",
                signed_path(key, &image_id, spec).as_str(),
                want_path.as_str(),
            );
            // The canonical query re-parses, as canonical, to the same spec.
            match TransformSpec::parse(want_query) {
                Ok(again) => {
                    r.check(
                        name,
                        "canonical re-parses as canonical",
                        &again.is_canonical(),
                        &true,
                    );
                    r.check(
                        name,
                        "canonical re-parses to the same spec",
                        again.spec(),
                        spec,
                    );
                }
                Err(e) => r.fail(name, format!("canonical query fails: {}", e.code())),
            }
            // As a whole request with the canonical form's sig: served, or redirected to
            // the canonical path.
            match TransformRequest::parse(&format!("/i/{image_id}/{want_sig}"), &case.query) {
                Ok(req) => {
                    let want = if canonical_expected {
                        Decision::Serve
                    } else {
                        Decision::Redirect(want_path.clone())
                    };
                    r.check(name, "request outcome", &req.decide(Some(key)), &want);
                }
                Err(e) => r.fail(name, format!("request fails: {}", e.code())),
            }
        }
        "error" => {
            let Some(want) = &case.error else {
                return r.fail(name, "missing error");
            };
            let got = parsed.map(|_| ()).map_err(UrlError::code);
            r.check(name, "error", &got, &Err(want.as_str()));
        }
        other => r.fail(name, format!("unknown expect {other:?}")),
    }
}

fn check_request(r: &mut Report, secret: &UrlSecret, req: &Request) {
    let name = req.name.as_str();
    let (status, error, location) = match TransformRequest::parse(&req.path, &req.query) {
        Err(e) => (e.status(), Some(e.code().to_owned()), None),
        Ok(parsed) => {
            // An edge decides without the key: the same redirects, and the rest passed on.
            let at_edge = match parsed.decide(None) {
                Decision::Redirect(location) => (301, Some(location)),
                other => (other.status(), None),
            };
            let want_at_edge = if req.status == 301 {
                (301, req.location.clone())
            } else {
                (200, None)
            };
            r.check(name, "edge decision", &at_edge, &want_at_edge);
            match parsed.decide_with_secret(secret) {
                Decision::Redirect(location) => (301, None, Some(location)),
                other => (other.status(), None, None),
            }
        }
    };
    r.check(name, "status", &status, &req.status);
    r.check(name, "error", &error, &req.error);
    r.check(name, "location", &location, &req.location);
}

/// What the edge does with a request's `Accept` header: the class from `Accept` (a
/// client's own `X-Imgedge-Accept` is what the edge replaces, so it is not passed on), the
/// cache key and the S3 key; the origins, given the class the edge set, agree.
fn check_accept(r: &mut Report, secret: &UrlSecret, case: &AcceptRequest) {
    let name = case.name.as_str();
    let request = match TransformRequest::parse(&case.path, &case.query) {
        Ok(request) => request,
        Err(e) => return r.fail(name, format!("request fails: {}", e.code())),
    };
    r.check(
        name,
        "decision",
        &request.decide_with_secret(secret),
        &Decision::Serve,
    );
    let class = request.accept_class(None, case.accept.as_deref());
    r.check(
        name,
        "accept_class",
        &class.map(AcceptClass::as_str),
        &case.accept_class.as_deref(),
    );
    r.check(
        name,
        "cache_key",
        &request.cache_key(class),
        &case.cache_key,
    );
    r.check(name, "s3_key", &request.variant_key(class), &case.s3_key);
    let at_origin = request.accept_class(class.map(AcceptClass::as_str), None);
    r.check(name, "class at the origin", &at_origin, &class);
    let _ = &case.client_accept_class;
}

#[test]
fn url_vectors() {
    let v = load();
    assert_eq!(v.spec, "transform-url-v1.1");
    let secret: UrlSecret = v.url_secret.parse().expect("url_secret is 64 hex");
    let mut r = Report::default();

    let mut keys = HashMap::new();
    for k in &v.keys {
        let name = format!("keys[{}@{}]", k.image_id, k.epoch);
        match k.image_id.parse::<ImageId>() {
            Ok(id) => {
                let key = UrlKey::derive_at(&secret, &id, KeyEpoch(k.epoch));
                r.check(&name, "url_key", key.to_hex().as_str(), k.url_key.as_str());
                let round_trip = UrlKey::from_hex(&k.url_key).map(|k| k.to_hex());
                r.check(
                    &name,
                    "hex round trip",
                    &round_trip.ok(),
                    &Some(k.url_key.clone()),
                );
                // Cases are signed at epoch 0.
                if k.epoch == 0 {
                    keys.insert(k.image_id.clone(), key);
                }
            }
            Err(e) => r.fail(&name, format!("image_id does not parse: {}", e.code())),
        }
    }
    for case in &v.cases {
        check_case(&mut r, &keys, case);
    }
    for req in &v.requests {
        check_request(&mut r, &secret, req);
    }
    for case in &v.accept {
        check_accept(&mut r, &secret, case);
    }
    let epochs: std::collections::BTreeSet<u32> = v.keys.iter().map(|k| k.epoch).collect();
    assert!(epochs.len() >= 3, "keys cover only the epochs {epochs:?}");
    assert!(
        v.accept.len() >= 10,
        "only {} accept vectors",
        v.accept.len()
    );

    let entries = v.cases.len() + v.requests.len();
    assert!(
        entries >= 80,
        "the vector file has only {entries} cases and requests"
    );
    assert!(!v.keys.is_empty(), "the vector file has no keys");
    assert!(
        r.0.is_empty(),
        "{} mismatches with testdata/url-vectors.json:\n{}",
        r.0.len(),
        r.0.join("\n")
    );
}
