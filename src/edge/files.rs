//! The default behaviour: the built web client's static files (`tower-http`'s `ServeDir`),
//! with the single-page application's routes answered by `index.html`.

use std::path::Path;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

use super::error::EdgeError;
use crate::error::{OnlyGetAndHead, PublicError as _};
use crate::http::{Body, BoxError, full};

/// Shown at `/` until the web client is built.
const PLACEHOLDER: &str = "<!doctype html><meta charset=utf-8><title>imgedge</title>\
<h1>imgedge</h1><p>The edge is running: the API is at <code>/v1/</code> \
(<a href=\"/v1/openapi.json\">OpenAPI</a>) and images at <code>/i/</code>. \
The web client is not built yet (<code>web/dist</code>).</p>";

pub(super) async fn serve(dir: &Path, request: Request<Incoming>) -> Response<Body> {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return OnlyGetAndHead.to_response().into_hyper();
    }
    let path = request.uri().path().to_owned();
    let index = dir.join("index.html");
    if !tokio::fs::try_exists(&index).await.unwrap_or(false) {
        return if path == "/" {
            let mut response = Response::new(full(PLACEHOLDER));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        } else {
            EdgeError::NoSuchFile.to_response().into_hyper()
        };
    }
    // A path without an extension is a client-side route: the application's page.
    let route = path
        .rsplit('/')
        .next()
        .is_some_and(|last| !last.contains('.'));
    let found = ServeDir::new(dir).precompressed_gzip().precompressed_br();
    let response = if route {
        found.fallback(ServeFile::new(index)).oneshot(request).await
    } else {
        found.oneshot(request).await
    };
    let Ok(response) = response;
    let mut response = response.map(|body| body.map_err(BoxError::from).boxed_unsync());
    if response.status() == StatusCode::NOT_FOUND {
        return EdgeError::NoSuchFile.to_response().into_hyper();
    }
    // Vite names built assets by content hash: they never change. The page itself must be
    // revalidated so that a new build is picked up.
    let cache_control = if path.starts_with("/assets/") && !route {
        crate::protocol::IMMUTABLE_CACHE_CONTROL
    } else {
        "no-cache"
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response
}
