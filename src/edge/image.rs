//! `/i/*`, in request phases (modelled on pingora's): the request filter (the spec's
//! parameters only; for a `format=auto` URL the accept class, computed here from `Accept`
//! whatever the client sent as `X-Imgedge-Accept`; the cache key), the cache lookup, the origin request once per key (the
//! Lambda@Edge function's rules, then S3, failing over to the transformer), the response.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use imgedge_url::{AcceptClass, Decision, TransformRequest, known_query};

use super::error::EdgeError;
use super::{Edge, Entry, Origin};
use crate::error::{ErrorResponse, OnlyGetAndHead, PublicError as _};
use crate::http::{Body, full};
use crate::protocol::{IMMUTABLE_CACHE_CONTROL, REDIRECT_CACHE_CONTROL, variant_etag};
use crate::singleflight::Role;

/// How a request was answered, for the `result` label of `imgedge_edge_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServedBy {
    Hit,
    S3,
    Transformer,
    /// Generated here: a redirect to the canonical URL.
    Redirect,
    /// Generated here: a malformed URL, or no origin could answer.
    Error,
}

impl ServedBy {
    fn label(self) -> &'static str {
        match self {
            ServedBy::Hit => "hit",
            ServedBy::S3 => "s3",
            ServedBy::Transformer => "transformer",
            ServedBy::Redirect => "redirect",
            ServedBy::Error => "error",
        }
    }
}

impl Edge {
    /// `/i/*`: phases 1 to 4 of the module documentation.
    pub(super) async fn image(&self, request: &Request<Incoming>) -> Response<Body> {
        let head = match *request.method() {
            Method::GET => false,
            Method::HEAD => true,
            _ => return OnlyGetAndHead.to_response().into_hyper(),
        };
        // Phase 1.
        let path = request.uri().path();
        let query = known_query(request.uri().query().unwrap_or(""));
        let accept = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        let class = TransformRequest::parse(path, &query)
            .ok()
            .and_then(|parsed| parsed.accept_class(None, accept));
        let mut key = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        if let Some(class) = class {
            // As `TransformRequest::cache_key` spells it.
            key.push('|');
            key.push_str(class.as_str());
        }

        // Phase 2.
        let (entry, outcome) = if let Some(entry) = self.0.cache.get(&key) {
            (entry, ServedBy::Hit)
        } else {
            // Phase 3.
            let this = self.clone();
            let (path, query, fill_key) = (path.to_owned(), query.into_owned(), key.clone());
            let (filled, role) = self
                .0
                .flights
                .run(key, async move {
                    this.fill(fill_key, &path, &query, class).await
                })
                .await;
            match filled {
                Ok(entry) if role == Role::Leader => {
                    let outcome = match (entry.origin, entry.status) {
                        (Origin::S3, _) => ServedBy::S3,
                        (Origin::Transformer, _) => ServedBy::Transformer,
                        (Origin::Edge, StatusCode::MOVED_PERMANENTLY) => ServedBy::Redirect,
                        (Origin::Edge, _) => ServedBy::Error,
                    };
                    (entry, outcome)
                }
                // Collapsed into another request's origin fetch: served without one, like a
                // hit when the answer is cached, else as the error it is.
                Ok(entry) if entry.ttl.is_zero() => (entry, ServedBy::Error),
                Ok(entry) => (entry, ServedBy::Hit),
                Err(e) => {
                    count(ServedBy::Error, 0);
                    return EdgeError::Internal(e.to_string())
                        .to_response()
                        .into_hyper();
                }
            }
        };

        // Phase 4.
        count(outcome, entry.body.len());
        let mut response = respond(&entry, outcome, request.headers(), head);
        if class.is_some() {
            // What was sent depends on `Accept` (whichever origin answered: S3 keeps no
            // `Vary`).
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Accept"));
        }
        response
    }

    /// Phase 3: the origin request for a missed key, and the cache fill.
    async fn fill(
        &self,
        key: String,
        path: &str,
        query: &str,
        class: Option<AcceptClass>,
    ) -> Arc<Entry> {
        let epoch = self.0.cache.epoch();
        let Answer {
            status,
            headers,
            body,
            origin,
        } = self.origin_request(path, query, class).await;
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
    /// first (a `format=auto` variant's object for `class`), then the transformer with the
    /// canonical path and query, untouched, and the class.
    async fn origin_request(&self, path: &str, query: &str, class: Option<AcceptClass>) -> Answer {
        let request = match TransformRequest::parse(path, query) {
            Ok(request) => request,
            Err(e) => return Answer::error(EdgeError::from(e).to_response()),
        };
        if let Decision::Redirect(location) = request.decide(None) {
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

        let variant_key = request.variant_key(class);
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

        match self
            .0
            .origins
            .transformer(&request.canonical_path(), class)
            .await
        {
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
                Answer::error(EdgeError::from(e).to_response())
            }
        }
    }
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

    /// Generated at the edge: an error of the contract, as any error response is.
    fn error(response: ErrorResponse) -> Answer {
        let (status, headers, body) = response.into_parts();
        Answer {
            status,
            headers,
            body,
            origin: Origin::Edge,
        }
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
fn count(outcome: ServedBy, bytes: usize) {
    metrics::counter!("imgedge_edge_requests_total", "result" => outcome.label()).increment(1);
    metrics::counter!("imgedge_edge_bytes_total", "result" => outcome.label())
        .increment(bytes as u64);
}

/// Phase 4: the response to send for a cache entry.
fn respond(entry: &Entry, outcome: ServedBy, request: &HeaderMap, head: bool) -> Response<Body> {
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
    if outcome == ServedBy::Hit {
        // The render's timings describe the request that rendered, not this one.
        headers.remove("server-timing");
    }
    if head || not_modified {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(entry.body.len()));
    }
    if not_modified {
        headers.remove(header::CONTENT_LENGTH);
    }
    let x_cache = if outcome == ServedBy::Hit {
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

#[cfg(test)]
mod tests {
    use super::*;

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
