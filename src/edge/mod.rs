//! The local edge (`imgedge edge`): what the `CloudFront` distribution of `cdk/` does, on one
//! machine, so the whole service runs, is tested and is load-tested without AWS.
//!
//! Behaviours, as the distribution's: `/i/*` → the image origin group (cached); `/v1/*` → the
//! API (never cached); anything else → the web client's static files. Plus what only a local
//! edge needs: `POST /_edge/purge` (authenticated invalidations), `/healthz` and `/metrics`.
//!
//! An image request goes through phases (modelled on pingora's):
//! 1. request filter: keep only the spec's parameters (what the cache policy forwards); the
//!    cache key is the path plus that query;
//! 2. cache lookup: a hit is answered at once;
//! 3. origin request, once per key however many requests miss together: the same rules as
//!    the Lambda@Edge function of `lambda-edge/` (400 for a malformed URL, 301 to the
//!    canonical one, both generated here), then S3 `v/{image_id}/{sig}`, failing over to the
//!    transformer when S3 has no such object;
//! 4. response filter: `X-Cache`, `Age`, `X-Edge-Origin`, `Via`, security headers.

mod cache;
mod files;
mod origin;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

pub use cache::{EdgeCache, Entry, Origin, PathPattern, TtlPolicy};
pub use origin::Origins;

use crate::http::{Body, SharedSecret, full, json_error};
use crate::protocol::{
    IMMUTABLE_CACHE_CONTROL, REDIRECT_CACHE_CONTROL, REFUSAL_CACHE_CONTROL, variant_etag,
};
use crate::singleflight::{Role, SingleFlight};
use imgedge_url::{TransformRequest, known_query};

/// The purge endpoint's path.
pub const PURGE_PATH: &str = "/_edge/purge";

/// Most patterns one purge may name.
const MAX_PURGE_PATTERNS: usize = 100;

/// Settings of the edge that are not its origins.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// The built web client (`index.html` and its assets).
    pub web_dir: PathBuf,
    /// Bytes of responses the cache may hold.
    pub cache_bytes: u64,
    pub ttl: TtlPolicy,
    /// The bearer token of the purge endpoint; `None` disables it.
    pub purge_token: Option<SharedSecret>,
    /// The largest request body forwarded to the API. A request declaring more is answered
    /// 413 here, as a proxy's body limit does: forwarding it would only have the API refuse
    /// it mid-stream, and a connection closed under an unread body can lose that answer.
    pub max_api_body: u64,
}

/// The API's default upload limit, 25 MiB, and room for a multipart form's framing.
pub const DEFAULT_MAX_API_BODY: u64 = 26 * 1024 * 1024;

impl Default for EdgeSettings {
    fn default() -> Self {
        EdgeSettings {
            web_dir: PathBuf::from("web/dist"),
            cache_bytes: 512 * 1024 * 1024,
            ttl: TtlPolicy::default(),
            purge_token: None,
            max_api_body: DEFAULT_MAX_API_BODY,
        }
    }
}

/// The edge. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Edge(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    settings: EdgeSettings,
    origins: Origins,
    cache: EdgeCache,
    flights: SingleFlight<String, Arc<Entry>>,
}

/// Which behaviour of the distribution a path falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Images,
    Api,
    Purge,
    Health,
    Metrics,
    Static,
}

impl Behaviour {
    fn of(path: &str) -> Behaviour {
        if path.starts_with("/i/") {
            Behaviour::Images
        } else if path.starts_with("/v1/") || path == "/v1" {
            Behaviour::Api
        } else if path == PURGE_PATH {
            Behaviour::Purge
        } else if path == "/healthz" {
            Behaviour::Health
        } else if path == "/metrics" {
            Behaviour::Metrics
        } else {
            Behaviour::Static
        }
    }
}

/// How a request was answered, for the `result` label of `imgedge_edge_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Hit,
    S3,
    Transformer,
    /// Generated here: a redirect to the canonical URL.
    Redirect,
    /// Generated here: a malformed URL, or no origin could answer.
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::S3 => "s3",
            Outcome::Transformer => "transformer",
            Outcome::Redirect => "redirect",
            Outcome::Error => "error",
        }
    }
}

impl Edge {
    pub fn new(settings: EdgeSettings, origins: Origins) -> Edge {
        Edge(Arc::new(Inner {
            cache: EdgeCache::new(settings.cache_bytes),
            settings,
            origins,
            flights: SingleFlight::new(),
        }))
    }

    /// The edge's cache (tests look inside; purges go through [`PURGE_PATH`]).
    pub fn cache(&self) -> &EdgeCache {
        &self.0.cache
    }

    /// Answers one request (the request filter: picks the behaviour).
    pub async fn handle(&self, request: Request<Incoming>, client: SocketAddr) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let mut response = match Behaviour::of(&path) {
            Behaviour::Images => self.image(&request).await,
            Behaviour::Api => self.api(request, client).await,
            Behaviour::Purge => self.purge(request).await,
            Behaviour::Health | Behaviour::Metrics
                if !matches!(*request.method(), Method::GET | Method::HEAD) =>
            {
                crate::http::only_get_and_head()
            }
            Behaviour::Health => text(StatusCode::OK, "ok"),
            Behaviour::Metrics => text(StatusCode::OK, crate::telemetry::render_metrics()),
            Behaviour::Static => files::serve(&self.0.settings.web_dir, request).await,
        };
        security_headers(response.headers_mut());
        response
    }

    /// `/i/*`: phases 1 to 4 of the module documentation.
    async fn image(&self, request: &Request<Incoming>) -> Response<Body> {
        let head = match *request.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => {
                return crate::http::only_get_and_head();
            }
        };
        // Phase 1.
        let path = request.uri().path();
        let query = known_query(request.uri().query().unwrap_or(""));
        let key = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };

        // Phase 2.
        let (entry, outcome) = if let Some(entry) = self.0.cache.get(&key) {
            (entry, Outcome::Hit)
        } else {
            // Phase 3.
            let this = self.clone();
            let (path, query, fill_key) = (path.to_owned(), query.into_owned(), key.clone());
            let (filled, role) = self
                .0
                .flights
                .run(key, async move { this.fill(fill_key, &path, &query).await })
                .await;
            match filled {
                Ok(entry) if role == Role::Leader => {
                    let outcome = match (entry.origin, entry.status) {
                        (Origin::S3, _) => Outcome::S3,
                        (Origin::Transformer, _) => Outcome::Transformer,
                        (Origin::Edge, StatusCode::MOVED_PERMANENTLY) => Outcome::Redirect,
                        (Origin::Edge, _) => Outcome::Error,
                    };
                    (entry, outcome)
                }
                // Collapsed into another request's origin fetch: served without one, like a
                // hit when the answer is cached, else as the error it is.
                Ok(entry) if entry.ttl.is_zero() => (entry, Outcome::Error),
                Ok(entry) => (entry, Outcome::Hit),
                Err(_) => {
                    count(Outcome::Error, 0);
                    return json_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal error",
                    );
                }
            }
        };

        // Phase 4.
        count(outcome, entry.body.len());
        respond(&entry, outcome, request.headers(), head)
    }

    /// Phase 3: the origin request for a missed key, and the cache fill.
    async fn fill(&self, key: String, path: &str, query: &str) -> Arc<Entry> {
        let epoch = self.0.cache.epoch();
        let Answer {
            status,
            headers,
            body,
            origin,
        } = self.origin_request(path, query).await;
        let ttl = self.0.settings.ttl.ttl(status, &headers);
        let entry = Arc::new(Entry {
            status,
            headers,
            body,
            origin,
            stored_at: Instant::now(),
            ttl,
        });
        self.0.cache.insert(key, Arc::clone(&entry), epoch);
        entry
    }

    /// The origin-request rules of the Lambda@Edge function, then the origin group: S3
    /// first, then the transformer with the canonical path and query, untouched.
    async fn origin_request(&self, path: &str, query: &str) -> Answer {
        let request = match TransformRequest::parse(path, query) {
            Ok(request) => request,
            Err(e) => {
                let mut answer = Answer::json(StatusCode::BAD_REQUEST, e.code(), &e.to_string());
                answer.headers.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(REFUSAL_CACHE_CONTROL),
                );
                return answer;
            }
        };
        if let Some(location) = request.redirect_location() {
            let mut answer = Answer::new(StatusCode::MOVED_PERMANENTLY, Bytes::new(), Origin::Edge);
            if let Ok(location) = HeaderValue::from_str(&location) {
                answer.headers.insert(header::LOCATION, location);
            }
            answer.headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(REDIRECT_CACHE_CONTROL),
            );
            return answer;
        }

        let variant_key = request.variant_key();
        let canonical_query = request.spec().canonical_query();
        let s3_status = match self.0.origins.s3(&variant_key).await {
            // The object is this URL's variant only if it renders this query: a signature
            // copied onto another query names another variant, which the transformer refuses.
            Ok(Some(object))
                if object.canonical_query.as_deref().unwrap_or_default() == canonical_query =>
            {
                origin_counted("s3", "200");
                return Answer::from_s3(object);
            }
            Ok(Some(_)) => "other-query",
            Ok(None) => "404",
            Err(e) => {
                // CloudFront fails over on connection errors too.
                tracing::warn!(error = %e, key = %variant_key, "S3 origin failed; failing over");
                "error"
            }
        };
        origin_counted("s3", s3_status);

        match self.0.origins.transformer(&request.canonical_path()).await {
            Ok(fetched) => {
                origin_counted("transformer", fetched.status.as_str());
                Answer {
                    status: fetched.status,
                    headers: fetched.headers,
                    body: fetched.body,
                    origin: Origin::Transformer,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "transformer origin failed");
                origin_counted("transformer", "error");
                let (status, code) = match e {
                    origin::OriginError::Timeout(_) => {
                        (StatusCode::GATEWAY_TIMEOUT, "origin_timeout")
                    }
                    // Down or restarting (a crash, a deploy): unavailable for a moment,
                    // which is what a client should retry, not a broken gateway.
                    origin::OriginError::Unreachable(_) => {
                        (StatusCode::SERVICE_UNAVAILABLE, "origin_unavailable")
                    }
                };
                let mut answer = Answer::json(
                    status,
                    code,
                    "the image origin did not answer; retry shortly",
                );
                let (name, value) = crate::http::retry_after(1);
                answer.headers.insert(name, value);
                answer
            }
        }
    }

    /// `/v1/*`: the API, never cached.
    async fn api(&self, request: Request<Incoming>, client: SocketAddr) -> Response<Body> {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.0.settings.max_api_body) {
            let mut response = json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                &format!(
                    "the body is larger than {} bytes",
                    self.0.settings.max_api_body
                ),
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        match self.0.origins.api(request, client).await {
            Ok(mut response) => {
                response.headers_mut().insert(
                    HeaderName::from_static("x-cache"),
                    HeaderValue::from_static("Miss from edge"),
                );
                response
            }
            Err(e) => {
                tracing::warn!(error = %e, "API origin failed");
                let (status, code) = match e {
                    origin::OriginError::Timeout(_) => {
                        (StatusCode::GATEWAY_TIMEOUT, "origin_timeout")
                    }
                    origin::OriginError::Unreachable(_) => {
                        (StatusCode::SERVICE_UNAVAILABLE, "origin_unavailable")
                    }
                };
                let mut response =
                    json_error(status, code, "the API did not answer; retry shortly");
                let (name, value) = crate::http::retry_after(1);
                response.headers_mut().insert(name, value);
                response
            }
        }
    }

    /// `POST /_edge/purge` with `Authorization: Bearer {token}` and a JSON body
    /// `{"paths": ["/i/{image_id}/*", ...]}`: what `CloudFront`'s `CreateInvalidation` takes.
    async fn purge(&self, request: Request<Incoming>) -> Response<Body> {
        let Some(token) = &self.0.settings.purge_token else {
            return json_error(StatusCode::NOT_FOUND, "not_found", "purging is not enabled");
        };
        if request.method() != Method::POST {
            return json_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "only POST",
            );
        }
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
        if !presented.is_some_and(|p| token.matches(p)) {
            return json_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid purge token is required",
            );
        }
        let body = match http_body_util::Limited::new(request.into_body(), 64 * 1024)
            .collect()
            .await
        {
            Ok(body) => body.to_bytes(),
            Err(_) => {
                return json_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "at most 64 KiB");
            }
        };
        let Ok(Purge { paths }) = serde_json::from_slice::<Purge>(&body) else {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                r#"expected {"paths": ["/path", "/prefix*"]}"#,
            );
        };
        if paths.is_empty() || paths.len() > MAX_PURGE_PATTERNS {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("between 1 and {MAX_PURGE_PATTERNS} paths"),
            );
        }
        let Some(patterns) = paths
            .iter()
            .map(|p| PathPattern::parse(p))
            .collect::<Option<Vec<_>>>()
        else {
            return json_error(
                StatusCode::BAD_REQUEST,
                "bad_path",
                "paths start with / and may end with one *",
            );
        };
        let purged = self.0.cache.purge(&patterns);
        metrics::counter!("imgedge_edge_purges_total").increment(1);
        tracing::info!(?paths, purged, "edge cache purged");
        let mut response = Response::new(full(
            serde_json::json!({ "paths": paths, "purged": purged }).to_string(),
        ));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// The body of a purge request.
#[derive(serde::Deserialize)]
struct Purge {
    paths: Vec<String>,
}

/// An answer to an origin request, before it is cached.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    origin: Origin,
}

impl Answer {
    fn new(status: StatusCode, body: Bytes, origin: Origin) -> Answer {
        Answer {
            status,
            headers: HeaderMap::new(),
            body,
            origin,
        }
    }

    /// Generated at the edge, in the JSON error format.
    fn json(status: StatusCode, code: &str, message: &str) -> Answer {
        let body = serde_json::json!({ "error": code, "message": message }).to_string();
        let mut answer = Answer::new(status, Bytes::from(body), Origin::Edge);
        answer.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        answer
    }

    /// A stored variant. S3 keeps the `Cache-Control` the transformer stored it with; the
    /// `ETag` is the transformer's too (S3's own is an MD5), so both origins agree.
    fn from_s3(object: crate::storage::Object) -> Answer {
        let mut answer = Answer::new(StatusCode::OK, Bytes::new(), Origin::S3);
        let content_type = object
            .content_type
            .as_deref()
            .and_then(|ct| HeaderValue::from_str(ct).ok())
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        answer.headers.insert(header::CONTENT_TYPE, content_type);
        let cache_control = object
            .cache_control
            .as_deref()
            .and_then(|cc| HeaderValue::from_str(cc).ok())
            .unwrap_or(HeaderValue::from_static(IMMUTABLE_CACHE_CONTROL));
        answer.headers.insert(header::CACHE_CONTROL, cache_control);
        if let Ok(etag) = HeaderValue::from_str(&variant_etag(&object.bytes)) {
            answer.headers.insert(header::ETAG, etag);
        }
        answer.body = object.bytes;
        answer
    }
}

fn origin_counted(origin: &'static str, status: &str) {
    metrics::counter!(
        "imgedge_edge_origin_requests_total",
        "origin" => origin,
        "status" => status.to_owned()
    )
    .increment(1);
}

/// Counts an image request by outcome, and the bytes it sent.
fn count(outcome: Outcome, bytes: usize) {
    metrics::counter!("imgedge_edge_requests_total", "result" => outcome.label()).increment(1);
    metrics::counter!("imgedge_edge_bytes_total", "result" => outcome.label())
        .increment(bytes as u64);
}

/// Phase 4: the response to send for a cache entry.
fn respond(entry: &Entry, outcome: Outcome, request: &HeaderMap, head: bool) -> Response<Body> {
    let not_modified = entry.status == StatusCode::OK
        && entry
            .headers
            .get(header::ETAG)
            .zip(request.get(header::IF_NONE_MATCH))
            .is_some_and(|(etag, wanted)| etag_listed(wanted, etag));
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else {
        (entry.status, entry.body.clone())
    };
    let mut response = Response::new(if head {
        crate::http::empty()
    } else {
        full(body)
    });
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.extend(entry.headers.clone());
    if outcome == Outcome::Hit {
        // The render's timings describe the request that rendered, not this one.
        headers.remove("server-timing");
    }
    if head || not_modified {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(entry.body.len()));
    }
    if not_modified {
        headers.remove(header::CONTENT_LENGTH);
    }
    let x_cache = if outcome == Outcome::Hit {
        "Hit from edge"
    } else {
        "Miss from edge"
    };
    headers.insert(
        HeaderName::from_static("x-cache"),
        HeaderValue::from_static(x_cache),
    );
    headers.insert(
        header::AGE,
        HeaderValue::from(entry.stored_at.elapsed().as_secs()),
    );
    headers.insert(
        HeaderName::from_static("x-edge-origin"),
        HeaderValue::from_static(entry.origin.as_str()),
    );
    headers.insert(header::VIA, HeaderValue::from_static("1.1 imgedge-edge"));
    response
}

/// Whether an `If-None-Match` value lists `etag` (or is `*`).
fn etag_listed(wanted: &HeaderValue, etag: &HeaderValue) -> bool {
    let (Ok(wanted), Ok(etag)) = (wanted.to_str(), etag.to_str()) else {
        return false;
    };
    wanted
        .split(',')
        .map(str::trim)
        .any(|w| w == "*" || w.strip_prefix("W/").unwrap_or(w) == etag)
}

/// What the distribution's response headers policy adds to everything.
fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Serves the edge on `listener` until `shutdown` completes.
pub async fn run(listener: TcpListener, edge: Edge, shutdown: impl Future<Output = ()> + Send) {
    crate::telemetry::install_metrics();
    crate::http::serve(
        listener,
        |client: SocketAddr| {
            let edge = edge.clone();
            hyper::service::service_fn(move |request| {
                let edge = edge.clone();
                async move { Ok::<_, std::convert::Infallible>(edge.handle(request, client).await) }
            })
        },
        shutdown,
        "edge",
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviours_follow_the_distribution() {
        assert_eq!(Behaviour::of("/i/x/y"), Behaviour::Images);
        assert_eq!(Behaviour::of("/v1/images"), Behaviour::Api);
        assert_eq!(Behaviour::of("/v1"), Behaviour::Api);
        assert_eq!(Behaviour::of("/v1x"), Behaviour::Static);
        assert_eq!(Behaviour::of("/"), Behaviour::Static);
        assert_eq!(Behaviour::of("/images/abc"), Behaviour::Static);
        assert_eq!(Behaviour::of(PURGE_PATH), Behaviour::Purge);
    }

    #[test]
    fn if_none_match_lists() {
        let etag = HeaderValue::from_static("\"abc\"");
        for (wanted, listed) in [
            ("\"abc\"", true),
            ("W/\"abc\"", true),
            ("\"x\", \"abc\"", true),
            ("*", true),
            ("\"abd\"", false),
        ] {
            assert_eq!(
                etag_listed(&HeaderValue::from_static(wanted), &etag),
                listed,
                "{wanted}"
            );
        }
    }
}
