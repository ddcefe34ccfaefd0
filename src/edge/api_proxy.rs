//! `/v1/*`: the API behind the edge, never cached; a body declared over the limit is
//! refused here rather than forwarded.

use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Request, Response};

use super::Edge;
use super::error::EdgeError;
use crate::error::PublicError as _;
use crate::http::Body;

impl Edge {
    /// `/v1/*`: the API, never cached.
    pub(super) async fn api(
        &self,
        request: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<Body> {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.0.settings.max_api_body) {
            return EdgeError::BodyTooLarge(self.0.settings.max_api_body)
                .to_response()
                .into_hyper();
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
                EdgeError::from(e).to_response().into_hyper()
            }
        }
    }
}
