//! `POST /_edge/purge`: the local edge's invalidations, taking what `CloudFront`'s
//! `CreateInvalidation` takes (paths, each exact or ending in `*`), with a bearer token.

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response};

use super::error::EdgeError;
use super::{Edge, PathPattern};
use crate::error::PublicError as _;
use crate::http::{Body, full};

/// Most patterns one purge may name.
const MAX_PURGE_PATTERNS: usize = 100;

impl Edge {
    /// `POST /_edge/purge` with `Authorization: Bearer {token}` and a JSON body
    /// `{"paths": ["/i/{image_id}/*", ...]}`: what `CloudFront`'s `CreateInvalidation` takes.
    pub(super) async fn purge(&self, request: Request<Incoming>) -> Response<Body> {
        match self.purged(request).await {
            Ok(response) => response,
            Err(e) => e.to_response().into_hyper(),
        }
    }

    async fn purged(&self, request: Request<Incoming>) -> Result<Response<Body>, EdgeError> {
        let token = self
            .0
            .settings
            .purge_token
            .as_ref()
            .ok_or(EdgeError::PurgeDisabled)?;
        if request.method() != Method::POST {
            return Err(EdgeError::PurgeMethod);
        }
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
        if !presented.is_some_and(|p| token.matches(p)) {
            return Err(EdgeError::PurgeUnauthorized);
        }
        let body = http_body_util::Limited::new(request.into_body(), 64 * 1024)
            .collect()
            .await
            .map_err(|_| EdgeError::PurgeBodyTooLarge)?
            .to_bytes();
        let Purge { paths } =
            serde_json::from_slice::<Purge>(&body).map_err(|_| EdgeError::PurgeBody)?;
        if paths.is_empty() || paths.len() > MAX_PURGE_PATTERNS {
            return Err(EdgeError::PurgePathCount(MAX_PURGE_PATTERNS));
        }
        let patterns = paths
            .iter()
            .map(|p| PathPattern::parse(p))
            .collect::<Option<Vec<_>>>()
            .ok_or(EdgeError::PurgePath)?;
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
        Ok(response)
    }
}

/// The body of a purge request.
#[derive(serde::Deserialize)]
struct Purge {
    paths: Vec<String>,
}
