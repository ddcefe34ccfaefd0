//! The addresses of a one-machine deployment, which several roles' defaults share: the edge
//! that clients reach (the API's `cdn_base`), and the origins behind it.

/// Where the edge listens, and so where transform URLs point by default.
pub const LOCAL_EDGE_ADDR: &str = "127.0.0.1:8000";
/// Where the API listens, and where the edge forwards `/v1/*`.
pub const LOCAL_API_ADDR: &str = "127.0.0.1:8080";
/// Where the transformer listens, and where the edge fails over to on a miss.
pub const LOCAL_TRANSFORMER_ADDR: &str = "127.0.0.1:8081";
/// Where `imgedge s3` listens.
pub const LOCAL_S3_ADDR: &str = "127.0.0.1:9000";
