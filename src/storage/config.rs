//! Where the store is and how to reach it: [`S3Config`], the network [`Timeouts`], and the
//! construction of an [`ObjectStore`]'s SDK client (HTTP stack, credentials, retries,
//! addressing).

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use super::ObjectStore;

/// Where the objects live and how to sign for them.
#[derive(Clone)]
pub struct S3Config {
    /// `None` is AWS S3 (the endpoint comes from the region); otherwise e.g.
    /// `http://127.0.0.1:9000` for `MinIO` or the embedded server.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// Empty for the AWS default credential chain ([`ObjectStore::connect`]).
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `http://host/bucket/key` rather than `http://bucket.host/key`: needed by `MinIO` and the
    /// embedded server, which have no wildcard DNS.
    pub force_path_style: bool,
}

impl Default for S3Config {
    /// AWS S3 in `us-east-1`, bucket `imgedge`, credentials from the default chain.
    fn default() -> Self {
        S3Config {
            endpoint: None,
            region: "us-east-1".into(),
            bucket: "imgedge".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            force_path_style: false,
        }
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("force_path_style", &self.force_path_style)
            .finish()
    }
}

/// Network time limits of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP (and TLS) connection. Short, so a dead endpoint is noticed quickly
    /// (readiness probes, requests answered 503 rather than hanging).
    pub connect: Duration,
    /// A whole operation, retries included. Long enough for a 25 MiB upload on a slow link.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            operation: Duration::from_secs(30),
        }
    }
}

/// The HTTP client of the AWS SDK clients: hyper with rustls (ring), which also speaks plain
/// HTTP for `http://` endpoints (`MinIO`, the embedded server on loopback). Built explicitly
/// because the SDK crates are compiled without their default client.
pub(crate) fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK timeout settings for `timeouts`.
pub(crate) fn timeout_config(timeouts: Timeouts) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(timeouts.connect)
        .operation_timeout(timeouts.operation)
        .build()
}

impl ObjectStore {
    /// A client for `cfg` with its static key pair and the default [`Timeouts`]. No network
    /// I/O happens here.
    pub fn new(cfg: &S3Config) -> ObjectStore {
        let credentials = Credentials::new(
            cfg.access_key_id.clone(),
            cfg.secret_access_key.clone(),
            None,
            None,
            "imgedge",
        );
        let builder = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http_client())
            .timeout_config(timeout_config(Timeouts::default()))
            .region(Region::new(cfg.region.clone()))
            .credentials_provider(credentials);
        Self::finish(cfg, builder)
    }

    /// A client for `cfg`: with its static key pair when it has one, else with the AWS
    /// default credential chain (environment, profile, web identity, ECS task role, instance
    /// role), resolved lazily at the first request. Default timeouts.
    pub async fn connect(cfg: &S3Config) -> ObjectStore {
        if !cfg.access_key_id.is_empty() {
            return Self::new(cfg);
        }
        let timeouts = Timeouts::default();
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(cfg.region.clone()))
            .http_client(http_client())
            .timeout_config(timeout_config(timeouts))
            .load()
            .await;
        Self::finish(cfg, aws_sdk_s3::config::Builder::from(&shared))
    }

    /// What every client shares: retries, addressing, the endpoint, the bucket.
    fn finish(cfg: &S3Config, builder: aws_sdk_s3::config::Builder) -> ObjectStore {
        let mut builder = builder
            .retry_config(RetryConfig::standard())
            .force_path_style(cfg.force_path_style);
        if let Some(endpoint) = &cfg.endpoint {
            builder = builder.endpoint_url(endpoint.clone());
        }
        ObjectStore {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            bucket: cfg.bucket.clone(),
            region: cfg.region.clone(),
            endpoint: cfg.endpoint.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let cfg = S3Config {
            endpoint: None,
            region: "eu-west-1".into(),
            bucket: "b".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI-very-secret".into(),
            force_path_style: false,
        };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        let store = ObjectStore::new(&cfg);
        assert!(!format!("{store:?}").contains("very-secret"));
        assert_eq!(store.bucket, "b");
    }
}
