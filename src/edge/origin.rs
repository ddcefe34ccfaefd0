//! The edge's origins: the S3 bucket (read with the edge's own `SigV4` credentials, as
//! `CloudFront`'s Origin Access Control does), and the HTTP origins behind it, the
//! transformer and the API, which it calls with the origin secret header.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Limited};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::http::{Body, BoxError, SharedSecret};
use crate::protocol::{ACCEPT_CLASS_HEADER, ORIGIN_SECRET_HEADER};
use crate::storage::{Object, ObjectStore, StorageError};
use imgedge_url::AcceptClass;

/// Largest response the edge takes from the transformer (a variant is far smaller).
const MAX_VARIANT_BYTES: usize = 128 * 1024 * 1024;

/// Longest wait for the API's answer to begin.
const API_TIMEOUT: Duration = Duration::from_secs(90);

/// Headers of an origin's answer that the edge keeps and repeats.
const KEPT: [HeaderName; 10] = [
    header::CONTENT_TYPE,
    header::VARY,
    header::CACHE_CONTROL,
    header::ETAG,
    header::LOCATION,
    header::RETRY_AFTER,
    HeaderName::from_static("server-timing"),
    HeaderName::from_static("ratelimit-limit"),
    HeaderName::from_static("ratelimit-remaining"),
    HeaderName::from_static("ratelimit-reset"),
];

/// Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded by a proxy.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// An origin's answer, read whole.
#[derive(Debug)]
pub struct OriginResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Why an HTTP origin gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    #[error("origin unreachable: {0}")]
    Unreachable(String),
    #[error("origin timed out after {0:?}")]
    Timeout(Duration),
}

/// The origins of one edge.
#[derive(Clone)]
pub struct Origins {
    store: ObjectStore,
    client: Client<HttpConnector, Body>,
    transformer: String,
    api: String,
    secret: SharedSecret,
    timeout: Duration,
}

impl std::fmt::Debug for Origins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origins")
            .field("store", &self.store)
            .field("transformer", &self.transformer)
            .field("api", &self.api)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Origins {
    /// `transformer` and `api` are base URLs (`http://host:port`); `timeout` bounds one
    /// request to the transformer (a render included).
    pub fn new(
        store: ObjectStore,
        transformer: &str,
        api: &str,
        secret: SharedSecret,
        timeout: Duration,
    ) -> Origins {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        connector.set_nodelay(true);
        Origins {
            store,
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
            transformer: transformer.trim_end_matches('/').to_owned(),
            api: api.trim_end_matches('/').to_owned(),
            secret,
            timeout,
        }
    }

    /// The stored variant `key`, `None` when S3 has none (or will not say: a 403 from a
    /// bucket without list permission means the same).
    pub async fn s3(&self, key: &str) -> Result<Option<Object>, StorageError> {
        match self.store.get(key).await {
            Err(StorageError::Rejected(f)) if f.status == Some(403) => Ok(None),
            other => other,
        }
    }

    /// The transformer's answer to `path_and_query` (canonical), read whole; for a
    /// `format=auto` URL, `class` is the request's accept class, passed on in
    /// [`ACCEPT_CLASS_HEADER`].
    pub async fn transformer(
        &self,
        path_and_query: &str,
        class: Option<AcceptClass>,
    ) -> Result<OriginResponse, OriginError> {
        let uri: Uri = format!("{}{path_and_query}", self.transformer)
            .parse()
            .map_err(|e| OriginError::Unreachable(format!("bad transformer URL: {e}")))?;
        let mut request = Request::get(uri)
            .body(crate::http::empty())
            .map_err(|e| OriginError::Unreachable(e.to_string()))?;
        self.add_secret(request.headers_mut());
        if let Some(class) = class {
            request.headers_mut().insert(
                HeaderName::from_static(ACCEPT_CLASS_HEADER),
                HeaderValue::from_static(class.as_str()),
            );
        }
        let fetch = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| OriginError::Unreachable(format!("{e:?}")))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_VARIANT_BYTES)
                .collect()
                .await
                .map_err(|e| OriginError::Unreachable(format!("reading the body: {e}")))?
                .to_bytes();
            let mut headers = HeaderMap::new();
            for name in &KEPT {
                for value in parts.headers.get_all(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
            Ok(OriginResponse {
                status: parts.status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .map_err(|_| OriginError::Timeout(self.timeout))?
    }

    /// Forwards `request` to the API as a reverse proxy, streaming both bodies.
    pub async fn api(
        &self,
        request: Request<hyper::body::Incoming>,
        client: SocketAddr,
    ) -> Result<Response<Body>, OriginError> {
        let (mut parts, body) = request.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/", hyper::http::uri::PathAndQuery::as_str);
        parts.uri = format!("{}{path_and_query}", self.api)
            .parse()
            .map_err(|e| OriginError::Unreachable(format!("bad API URL: {e}")))?;
        strip_hop_by_hop(&mut parts.headers);
        // The edge is where requests enter: an X-Forwarded-For sent by a client is only its
        // own claim, so it is replaced by the address the edge saw, never appended to.
        if let Ok(value) = HeaderValue::from_str(&client.ip().to_string()) {
            parts.headers.insert("x-forwarded-for", value);
        }
        parts
            .headers
            .insert("x-forwarded-proto", HeaderValue::from_static("http"));
        self.add_secret(&mut parts.headers);
        let request = Request::from_parts(parts, body.map_err(BoxError::from).boxed_unsync());
        // Bounds the wait for the response's head (an upload's body streams within it); the
        // API bounds its own handlers' time, so this only trips on an API that hangs.
        let response = tokio::time::timeout(API_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| OriginError::Timeout(API_TIMEOUT))?
            .map_err(|e| OriginError::Unreachable(format!("{e:?}")))?;
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        Ok(Response::from_parts(
            parts,
            body.map_err(BoxError::from).boxed_unsync(),
        ))
    }

    fn add_secret(&self, headers: &mut HeaderMap) {
        if let Ok(value) = HeaderValue::from_str(self.secret.expose()) {
            headers.insert(ORIGIN_SECRET_HEADER, value);
        }
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers named by `Connection` are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(&HOP_BY_HOP) {
        headers.remove(name);
    }
}
