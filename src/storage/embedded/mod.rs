//! An S3-compatible server inside the binary, for development and tests: `s3s` (the S3
//! protocol, `SigV4` verification) over `s3s-fs` (objects as files under a directory), served
//! with hyper on a listener the caller binds (normally loopback, port 0 in tests).
//!
//! Requests must be signed with the configured key pair: anonymous and wrongly signed requests
//! are answered 403, as by a private bucket. Clients reach it through [`super::ObjectStore`]
//! with path-style addressing, exactly like any other S3 endpoint.
//!
//! Consistency. `s3s-fs` 0.14.1 (checked in its source) writes an object's bytes to a
//! temporary file under the root (`.tmp.N.internal.part`) and renames it over the key's file,
//! so the bytes alone are never partially visible. But the object's attributes (content type)
//! and its checksums are two more files written one after the other after that rename, and a
//! GET reads the three separately: two concurrent PUTs of one key can leave the bytes of one
//! with the checksum of the other (every later GET then fails the client's checksum check),
//! and a GET racing a PUT can mix them too. [`Consistent`] wraps the file system with a lock
//! per key (striped) so that a PUT's three writes and a GET's three reads do not interleave;
//! request bodies are read into memory before the lock is taken, so a slow client never holds
//! it. Left as in `s3s-fs`: a PUT whose checksum fails is detected after the rename (the bad
//! bytes replace the object), and deleting an object leaves its attribute files behind under
//! the root (harmless: the next PUT of the key rewrites them).

mod consistent;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s_fs::FileSystem;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::StorageError;
use consistent::Consistent;

/// A running embedded S3 server. Stops when dropped (open requests get
/// [`crate::http::GRACE`] to finish
/// if the runtime keeps running) or, waiting for it, with [`EmbeddedS3::shutdown`].
#[derive(Debug)]
pub struct EmbeddedS3 {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl EmbeddedS3 {
    /// Serves on `listener`, storing buckets as directories under `root` (created if
    /// missing), accepting only requests signed with this key pair. Returns once the server
    /// accepts connections.
    pub async fn start(
        listener: TcpListener,
        root: PathBuf,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<EmbeddedS3, StorageError> {
        let addr = listener
            .local_addr()
            .map_err(|e| StorageError::unavailable("embedded S3 start", "listener", e))?;
        let service = build_service(root, access_key_id, secret_access_key).await?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(listener, service, async move {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        }));
        Ok(EmbeddedS3 {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The URL clients use, e.g. `http://127.0.0.1:41234` (a wildcard bind address is
    /// replaced by the matching loopback address).
    pub fn endpoint(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        format!("http://{addr}")
    }

    /// Stops accepting connections and waits for open requests to finish (at most
    /// [`crate::http::GRACE`]).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "embedded S3 server task failed");
        }
    }
}

impl Drop for EmbeddedS3 {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs an embedded S3 server on `listener` until `shutdown` completes (for a long-running
/// `imgedge s3`-style command). Same storage and authentication as [`EmbeddedS3::start`].
pub async fn serve(
    listener: TcpListener,
    root: PathBuf,
    access_key_id: &str,
    secret_access_key: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StorageError> {
    let service = build_service(root, access_key_id, secret_access_key).await?;
    run(listener, service, shutdown).await;
    Ok(())
}

/// The S3 service over a directory, with `SigV4` authentication: once an auth provider is set,
/// `s3s` refuses anonymous requests by default.
async fn build_service(
    root: PathBuf,
    access_key_id: &str,
    secret_access_key: &str,
) -> Result<S3Service, StorageError> {
    const OP: &str = "embedded S3 start";
    if access_key_id.is_empty() || secret_access_key.is_empty() {
        return Err(StorageError::rejected(
            OP,
            "credentials",
            "an access key id and a secret are required (anonymous access is never allowed)",
        ));
    }
    let target = root.display().to_string();
    tokio::fs::create_dir_all(&root)
        .await
        .map_err(|e| StorageError::unavailable(OP, target.clone(), e))?;
    // `FileSystem::new` does blocking I/O (canonicalize, clearing old temporary files).
    let (fs, root) = tokio::task::spawn_blocking(move || {
        let canonical = std::fs::canonicalize(&root).map_err(|e| format!("{e}"))?;
        FileSystem::new(root)
            .map(|fs| (fs, canonical))
            .map_err(|e| format!("{e:?}"))
    })
    .await
    .map_err(|e| StorageError::unavailable(OP, target.clone(), e))?
    .map_err(|e| StorageError::unavailable(OP, target, e))?;
    let mut builder = S3ServiceBuilder::new(Consistent::new(fs, root));
    builder.set_auth(SimpleAuth::from_single(
        access_key_id.to_owned(),
        secret_access_key.to_owned(),
    ));
    Ok(builder.build())
}

async fn run(listener: TcpListener, service: S3Service, shutdown: impl Future<Output = ()> + Send) {
    crate::http::serve(listener, |_| service.clone(), shutdown, "embedded S3").await;
}
