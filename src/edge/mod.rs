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

mod api_proxy;
mod cache;
mod error;
mod files;
mod image;
mod origin;
mod purge;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

pub use cache::{EdgeCache, Entry, Origin, PathPattern, TtlPolicy};
pub use origin::Origins;

use crate::error::{OnlyGetAndHead, PublicError as _};
use crate::http::{Body, SharedSecret, full};
use crate::singleflight::SingleFlight;

/// The purge endpoint's path.
pub const PURGE_PATH: &str = "/_edge/purge";

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
                OnlyGetAndHead.to_response().into_hyper()
            }
            Behaviour::Health => text(StatusCode::OK, "ok"),
            Behaviour::Metrics => text(StatusCode::OK, crate::telemetry::render_metrics()),
            Behaviour::Static => files::serve(&self.0.settings.web_dir, request).await,
        };
        security_headers(response.headers_mut());
        response
    }
}

/// The web client's Content-Security-Policy: its own scripts, styles and API only; images
/// also from `blob:` (previews of files being uploaded) and `data:`; no plugins, no `<base>`,
/// no framing. `cdk/lib/delivery.ts` sends the same.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' blob: data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// What the distribution's response headers policy adds to everything.
fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
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
}
