//! One-shot commands for users and scripts: `imgedge render` (try a transform on a local
//! file) and `imgedge url` (compute a signed transform URL exactly as the spec does).

use std::path::Path;

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::error::{ErrorCode, PublicError};

use imgedge_engine::{Engine, EngineError, Rendered};
use imgedge_url::{
    AcceptClass, ImageId, KeyEpoch, Sig, TransformRequest, TransformSpec, UrlError, UrlKey,
    UrlSecret, path_with_query,
};

/// Failure of `imgedge render`.
#[derive(Debug, thiserror::Error)]
pub enum RenderFileError {
    #[error(transparent)]
    Query(#[from] UrlError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl PublicError for RenderFileError {
    /// The code the services would answer with; `io_error` for the local files.
    fn code(&self) -> ErrorCode {
        match self {
            RenderFileError::Query(e) => PublicError::code(e),
            RenderFileError::Engine(e) => e.code(),
            RenderFileError::Io { .. } => ErrorCode::IoError,
        }
    }

    /// The command runs on the user's own files and machine: the whole cause (libvips'
    /// text included) is theirs to see, unlike a service's.
    fn public_message(&self) -> Cow<'static, str> {
        Cow::Owned(self.to_string())
    }
}

/// Renders `input` with the transform `query` into `output`, which is written whole or not
/// at all (a temporary file renamed into place).
pub fn render_file(
    engine: &Engine,
    input: &Path,
    output: &Path,
    query: &str,
) -> Result<(Rendered, String), RenderFileError> {
    let spec = TransformSpec::parse(query)?.into_spec();
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| RenderFileError::Io { path, source }
    };
    let bytes = std::fs::read(input).map_err(io(input))?;
    let rendered = engine.render(&bytes, &spec)?;
    let partial = output.with_extension("partial");
    std::fs::write(&partial, &rendered.bytes).map_err(io(&partial))?;
    std::fs::rename(&partial, output).map_err(io(output))?;
    Ok((rendered, spec.canonical_query()))
}

/// The JSON summary `imgedge render` prints.
pub fn rendered_json(rendered: &Rendered, canonical_query: &str) -> Value {
    let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e4).round() / 10.0;
    json!({
        "canonical_query": canonical_query,
        "format": rendered.format.as_str(),
        "width": rendered.width,
        "height": rendered.height,
        "bytes": rendered.bytes.len(),
        "timings_ms": {
            "decode": ms(rendered.timings.decode),
            "transform": ms(rendered.timings.transform),
            "encode": ms(rendered.timings.encode),
        },
    })
}

/// What `imgedge url` is asked about a URL beyond its query.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlRequest<'a> {
    /// The request's `Accept` header, if any.
    pub accept: Option<&'a str>,
    /// The image's key epoch.
    pub epoch: KeyEpoch,
}

/// What `imgedge url` prints: the image's `url_key` (at its epoch), the canonical query,
/// its signature and the path, and what a request for it with `Accept` gives: its accept
/// class (`null` unless the URL has `format=auto`), the edge's cache key and the S3 key of
/// its object; or `{"error": code, "message": text}`. A non-canonical query is shown with
/// its canonical form and `"canonical": false`.
pub fn describe_url(
    secret: &UrlSecret,
    image_id: &str,
    query: &str,
    request: &UrlRequest<'_>,
) -> Result<Value, Value> {
    let fail =
        |e: &UrlError| serde_json::from_slice(&e.to_response().body()).unwrap_or(Value::Null);
    let image_id: ImageId = image_id.parse().map_err(|e| fail(&e))?;
    let parsed = TransformSpec::parse(query).map_err(|e| fail(&e))?;
    let key = UrlKey::derive_at(secret, &image_id, request.epoch);
    let canonical_query = parsed.spec().canonical_query();
    let sig = Sig::compute(&key, &canonical_query);
    let path = path_with_query(&image_id, &sig, &canonical_query);
    let signed = TransformRequest::parse(&format!("/i/{image_id}/{sig}"), &canonical_query)
        .map_err(|e| fail(&e))?;
    let class = signed.accept_class(None, request.accept);
    Ok(json!({
        "image_id": image_id.to_string(),
        "key_epoch": request.epoch.0,
        "url_key": key.to_hex(),
        "input_query": query,
        "canonical": parsed.is_canonical(),
        "canonical_query": canonical_query,
        "sig": sig.to_string(),
        "path": path,
        "accept": request.accept,
        "accept_class": class.map(AcceptClass::as_str),
        "cache_key": signed.cache_key(class),
        "s3_key": signed.variant_key(class),
    }))
}
