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

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::path::PathBuf;

use futures::TryStreamExt;
use s3s::auth::SimpleAuth;
use s3s::dto::{
    AbortMultipartUploadInput, AbortMultipartUploadOutput, CompleteMultipartUploadInput,
    CompleteMultipartUploadOutput, CopyObjectInput, CopyObjectOutput, CopySource,
    CreateBucketInput, CreateBucketOutput, CreateMultipartUploadInput, CreateMultipartUploadOutput,
    DeleteBucketInput, DeleteBucketOutput, DeleteObjectInput, DeleteObjectOutput,
    DeleteObjectsInput, DeleteObjectsOutput, GetBucketLocationInput, GetBucketLocationOutput,
    GetObjectInput, GetObjectOutput, HeadBucketInput, HeadBucketOutput, HeadObjectInput,
    HeadObjectOutput, ListBucketsInput, ListBucketsOutput, ListObjectsInput, ListObjectsOutput,
    ListObjectsV2Input, ListObjectsV2Output, ListPartsInput, ListPartsOutput, PutObjectInput,
    PutObjectOutput, StreamingBlob, UploadPartInput, UploadPartOutput,
};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Request, S3Response, S3Result};
use s3s_fs::FileSystem;
use tokio::net::TcpListener;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, oneshot};
use tokio::task::JoinHandle;

use super::StorageError;

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

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
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

/// Lock stripes: keys hash onto these, so unrelated keys rarely wait for each other.
const STRIPES: usize = 64;

/// `s3s-fs` with the operations on one key made atomic with respect to each other (see the
/// module documentation). Only the operations `s3s-fs` implements are forwarded; the others
/// keep the trait's `NotImplemented` answer.
struct Consistent {
    fs: FileSystem,
    /// `fs`'s root, canonical: objects are the files `{root}/{bucket}/{key}`.
    root: PathBuf,
    stripes: Box<[RwLock<()>]>,
    hasher: RandomState,
}

impl Consistent {
    fn new(fs: FileSystem, root: PathBuf) -> Self {
        Self {
            fs,
            root,
            stripes: (0..STRIPES).map(|_| RwLock::new(())).collect(),
            hasher: RandomState::new(),
        }
    }

    /// The file of an object, as `s3s-fs` lays them out; `None` for a bucket or key that
    /// would leave the root (`s3s-fs` refuses those itself).
    fn object_path(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        let relative = std::path::Path::new(bucket).join(key);
        relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
            .then(|| self.root.join(relative))
    }

    fn stripe(&self, bucket: &str, key: &str) -> usize {
        (self.hasher.hash_one((bucket, key)) % STRIPES as u64) as usize
    }

    async fn read(&self, bucket: &str, key: &str) -> RwLockReadGuard<'_, ()> {
        self.stripes[self.stripe(bucket, key)].read().await
    }

    /// Write locks for several keys, taken in stripe order so that two callers can never
    /// each hold one the other waits for.
    async fn write<'k>(
        &self,
        keys: impl IntoIterator<Item = (&'k str, &'k str)>,
    ) -> Vec<RwLockWriteGuard<'_, ()>> {
        let mut stripes: Vec<usize> = keys.into_iter().map(|(b, k)| self.stripe(b, k)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for i in stripes {
            guards.push(self.stripes[i].write().await);
        }
        guards
    }
}

/// Reads a request body whole, so that the lock is held for disk I/O only.
async fn buffer(body: StreamingBlob) -> S3Result<StreamingBlob> {
    let chunks: Vec<bytes::Bytes> = body.try_collect().await.map_err(|e| {
        let mut err = s3s::s3_error!(IncompleteBody);
        err.set_source(e);
        err
    })?;
    Ok(StreamingBlob::from(s3s::Body::from(chunks.concat())))
}

#[async_trait::async_trait]
impl S3 for Consistent {
    async fn put_object(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        if let Some(body) = req.input.body.take() {
            req.input.body = Some(buffer(body).await?);
        }
        let _guard = self.write([(&*req.input.bucket, &*req.input.key)]).await;
        self.fs.put_object(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        // The body streams from a file opened under the lock: a later rename does not
        // change what an open file reads.
        let _guard = self.read(&req.input.bucket, &req.input.key).await;
        let whole = req.input.range.is_none() && req.input.part_number.is_none();
        let path = self.object_path(&req.input.bucket, &req.input.key);
        let mut response = self.fs.get_object(req).await?;
        // s3s-fs streams a file in 4 KiB reads, each a trip to the blocking pool: a 4 MB
        // original took 20 to 60 ms. The whole object is read at once instead (still under
        // the lock, so it is the same version as the headers describe).
        if let (true, Some(path)) = (whole, path) {
            let bytes = tokio::fs::read(&path).await.map_err(|e| {
                let mut err = s3s::s3_error!(InternalError);
                err.set_source(Box::new(e));
                err
            })?;
            if response.output.content_length == Some(bytes.len() as i64) {
                response.output.body = Some(StreamingBlob::from(s3s::Body::from(bytes)));
            }
        }
        Ok(response)
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let _guard = self.read(&req.input.bucket, &req.input.key).await;
        self.fs.head_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let _guard = self.write([(&*req.input.bucket, &*req.input.key)]).await;
        self.fs.delete_object(req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let bucket = &*req.input.bucket;
        let _guards = self
            .write(req.input.delete.objects.iter().map(|o| (bucket, &*o.key)))
            .await;
        self.fs.delete_objects(req).await
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let mut keys = vec![(&*req.input.bucket, &*req.input.key)];
        if let CopySource::Bucket { bucket, key, .. } = &req.input.copy_source {
            keys.push((&**bucket, &**key));
        }
        let _guards = self.write(keys).await;
        self.fs.copy_object(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let _guard = self.write([(&*req.input.bucket, &*req.input.key)]).await;
        self.fs.complete_multipart_upload(req).await
    }

    // Operations on buckets, listings and multipart parts touch no object's files.

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.fs.create_bucket(req).await
    }

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.fs.delete_bucket(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.fs.get_bucket_location(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.fs.list_buckets(req).await
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.fs.list_objects(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.fs.list_objects_v2(req).await
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.fs.create_multipart_upload(req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.fs.upload_part(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.fs.list_parts(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.fs.abort_multipart_upload(req).await
    }
}
