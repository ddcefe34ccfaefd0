//! HTTP plumbing shared by the roles served with hyper directly (transformer, edge, embedded
//! S3): the accept loop with its graceful stop, the response body type, and the JSON error
//! body every role answers with (`{"error": CODE, "message": TEXT}`).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::Incoming;

use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Errors of a response body (a proxied stream, a file being read).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The response body of every hyper-served role.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// How long a stopping server lets open requests finish before dropping their connections.
pub const GRACE: Duration = Duration::from_secs(5);

/// How long a client may take to send a request's headers: a slow sender is cut off rather
/// than holding a connection (and its task) open.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::new().map_err(|e| match e {}).boxed_unsync()
}

/// A dependency's state in a readiness body: `ok`, or `unavailable` as the error code of a
/// request that needed it says.
pub fn dependency_state<T, E>(probe: &Result<T, E>) -> &'static str {
    if probe.is_ok() {
        "ok"
    } else {
        crate::error::ErrorCode::Unavailable.as_str()
    }
}

/// The `Allow` header of resources that answer only GET and HEAD.
pub const GET_AND_HEAD: &str = "GET, HEAD";

/// Serves HTTP/1.1 and HTTP/2 on `listener` until `shutdown` completes, then lets open requests
/// finish for at most [`GRACE`]. `make` builds the service of each connection from the
/// client's address.
pub async fn serve<M, S, B>(
    listener: TcpListener,
    make: M,
    shutdown: impl Future<Output = ()> + Send,
    role: &'static str,
) where
    M: Fn(SocketAddr) -> S,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut http = ConnBuilder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    // Connection tasks live in a set so that they are aborted, not leaked, when we return.
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // Small responses go out at once rather than waiting for Nagle.
                    let _ = stream.set_nodelay(true);
                    let conn = http.serve_connection(TokioIo::new(stream), make(peer));
                    let conn = graceful.watch(conn.into_owned());
                    connections.spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(role, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(role, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            role,
            "connections still open after the grace period; closing them"
        );
    }
    connections.shutdown().await;
}

/// A secret that one side presents in a header and the other checks: the origin secret that
/// edges add to origin requests (`CloudFront`'s origin custom header), the edge's purge token.
#[derive(Clone)]
pub struct SharedSecret(std::sync::Arc<str>);

impl SharedSecret {
    /// The shortest secret accepted, in bytes: guessing one must be out of reach.
    pub const MIN_BYTES: usize = 32;

    /// `None` for a secret shorter than [`SharedSecret::MIN_BYTES`] (an empty one would let
    /// anyone in, a short one invites guessing), and for one that cannot travel in a header
    /// (anything but visible ASCII).
    pub fn new(secret: &str) -> Option<SharedSecret> {
        let usable =
            secret.len() >= Self::MIN_BYTES && secret.bytes().all(|b| b.is_ascii_graphic());
        usable.then(|| SharedSecret(secret.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is the secret, compared in constant time (the comparison of two
    /// BLAKE3 hashes is).
    pub fn matches(&self, presented: &[u8]) -> bool {
        blake3::hash(presented) == blake3::hash(self.0.as_bytes())
    }
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::SharedSecret;

    #[test]
    fn a_shared_secret_is_long_and_fits_a_header() {
        assert!(SharedSecret::new(&"a".repeat(SharedSecret::MIN_BYTES)).is_some());
        assert!(SharedSecret::new(&"a".repeat(SharedSecret::MIN_BYTES - 1)).is_none());
        assert!(SharedSecret::new("").is_none());
        let with_space = format!("{} b", "a".repeat(SharedSecret::MIN_BYTES));
        assert!(SharedSecret::new(&with_space).is_none());
    }
}
