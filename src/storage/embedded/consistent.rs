//! [`Consistent`]: `s3s-fs` with a lock per key (striped), so that the several files of one
//! object are never written or read interleaved (see the parent module's documentation).

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;

use futures::TryStreamExt;
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
use s3s::{S3, S3Request, S3Response, S3Result};
use s3s_fs::FileSystem;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Lock stripes: keys hash onto these, so unrelated keys rarely wait for each other.
const STRIPES: usize = 64;

/// `s3s-fs` with the operations on one key made atomic with respect to each other (see the
/// parent module's documentation). Only the operations `s3s-fs` implements are forwarded; the
/// others keep the trait's `NotImplemented` answer.
pub(super) struct Consistent {
    fs: FileSystem,
    /// `fs`'s root, canonical: objects are the files `{root}/{bucket}/{key}`.
    root: PathBuf,
    stripes: Box<[RwLock<()>]>,
    hasher: RandomState,
}

impl Consistent {
    pub(super) fn new(fs: FileSystem, root: PathBuf) -> Self {
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
