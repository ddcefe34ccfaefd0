//! Operations on every key under a prefix: listing it (page by page) and deleting it (a
//! `DeleteObjects` request per listed page).

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::error::classify;
use super::{ObjectStore, StorageError};

/// A key found by listing, with when it was last written (when the server says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub last_modified: Option<std::time::SystemTime>,
}

/// Most keys a `DeleteObjects` request may name (an S3 limit) and the default page size of
/// `ListObjectsV2`.
const PAGE: usize = 1000;

impl ObjectStore {
    /// Removes every object whose key starts with `prefix`, a page of up to 1000 keys per
    /// `DeleteObjects` request, and answers how many were removed. An empty prefix is refused
    /// rather than emptying the bucket.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        const OP: &str = "DeleteObjects";
        if prefix.is_empty() {
            return Err(StorageError::rejected(
                OP,
                prefix,
                "refusing to delete with an empty prefix (the whole bucket)",
            ));
        }
        let mut deleted = 0u64;
        let mut token = None;
        loop {
            let (objects, next) = self.list_page(prefix, token.take()).await?;
            if !objects.is_empty() {
                let keys = objects.into_iter().map(|o| o.key).collect();
                deleted += self.delete_batch(prefix, keys).await?;
            }
            match next {
                Some(t) => token = Some(t),
                None => return Ok(deleted),
            }
        }
    }

    /// Every key that starts with `prefix`, in key order, across all listing pages.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .list_objects(prefix)
            .await?
            .into_iter()
            .map(|o| o.key)
            .collect())
    }

    /// Every object under `prefix` with its last-modified time, across all pages.
    pub async fn list_objects(&self, prefix: &str) -> Result<Vec<Listed>, StorageError> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let (objects, next) = self.list_page(prefix, token.take()).await?;
            all.extend(objects);
            match next {
                Some(t) => token = Some(t),
                None => return Ok(all),
            }
        }
    }

    /// One `ListObjectsV2` page: its objects and the continuation token if there are more.
    async fn list_page(
        &self,
        prefix: &str,
        token: Option<String>,
    ) -> Result<(Vec<Listed>, Option<String>), StorageError> {
        let output = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .max_keys(PAGE as i32)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| classify("ListObjectsV2", prefix, &e))?;
        let keys = output
            .contents()
            .iter()
            .filter_map(|o| {
                Some(Listed {
                    key: o.key()?.to_owned(),
                    last_modified: o
                        .last_modified()
                        .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
                })
            })
            .collect();
        let next = if output.is_truncated() == Some(true) {
            // A truncated page without a token would make us loop forever; stop instead.
            let token = output.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return Err(StorageError::rejected(
                    "ListObjectsV2",
                    prefix,
                    "truncated listing without a continuation token",
                ));
            }
            token
        } else {
            None
        };
        Ok((keys, next))
    }

    /// Deletes up to [`PAGE`] keys in one request; per-key failures fail the whole call.
    async fn delete_batch(&self, prefix: &str, keys: Vec<String>) -> Result<u64, StorageError> {
        const OP: &str = "DeleteObjects";
        let requested = keys.len() as u64;
        let objects = keys
            .into_iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StorageError::rejected(OP, prefix, e))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| StorageError::rejected(OP, prefix, e))?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| classify(OP, prefix, &e))?;
        let errors = output.errors();
        if let Some(first) = errors.first() {
            let detail = format!(
                "{} of {requested} keys not deleted; first: {} {} {}",
                errors.len(),
                first.key().unwrap_or("?"),
                first.code().unwrap_or("?"),
                first.message().unwrap_or(""),
            );
            let transient = matches!(
                first.code(),
                Some("InternalError" | "SlowDown" | "ServiceUnavailable")
            );
            return Err(if transient {
                StorageError::unavailable(OP, prefix, detail)
            } else {
                StorageError::rejected(OP, prefix, detail)
            });
        }
        Ok(requested)
    }
}
