//! The API's OpenAPI 3 document, generated from the handlers' annotations and served at
//! `/v1/openapi.json`. It describes what is reachable at the public base URL (`/v1/*`); each
//! role's `/healthz`, `/readyz` and `/metrics` are for its operator and stay out of it.

use std::sync::LazyLock;

use axum::Json;
use utoipa::openapi::encoding::Encoding;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Header, Ref, ResponseBuilder, Type};
use utoipa::{Modify, OpenApi};

use super::{
    account, api_keys, auth, edit, images, presets, representation, sessions, upload, variants,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "imgedge API", description = "Accounts, uploads, image metadata and signed transform URLs. Image bytes are served by the CDN, never by this API."),
    paths(
        auth::register, auth::login, sessions::refresh, sessions::logout, account::me,
        account::usage, account::change_password, account::end_sessions, account::delete,
        api_keys::create, api_keys::list, api_keys::delete,
        upload::upload, images::list, images::get, edit::patch, images::mint_url, images::delete,
        images::rotate_key, variants::list, variants::delete,
        presets::list, presets::put, presets::delete,
    ),
    components(schemas(
        crate::error::ErrorBody, auth::Credentials, auth::SignIn, auth::Registered, sessions::RefreshRequest, sessions::Session,
        representation::ImageMetadata, representation::Focus, images::ImageList, images::MintedUrl, upload::UploadForm,
        edit::ImagePatch, account::Account, account::Usage, account::Counted, account::PasswordChange,
        account::PasswordConfirmation, crate::db::StorageUsage, crate::db::StorageQuota,
        api_keys::NewApiKey, api_keys::KeyScope, api_keys::ApiKeyView, api_keys::ApiKeyList, api_keys::CreatedApiKey,
        variants::VariantView, variants::ClassObjectView, variants::VariantList,
        presets::PresetBody, presets::PresetView, presets::PresetList, presets::PresetLink, presets::RenderState,
    )),
    modifiers(&BearerAuth, &CommonResponses, &UploadEncoding),
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The answers every operation can give whatever its handler does, because they come from
/// what runs around it: the rate limiter (429, with `Retry-After` and the `RateLimit-*`
/// headers) and a dependency outage or the request deadline (503, with `Retry-After`).
/// Written once here rather than on each handler.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error_body = || Content::new(Some(Ref::from_schema_name("ErrorBody")));
        let integer =
            || Header::new(utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer));
        let rate_limited = ResponseBuilder::new()
            .description("Rate limited: retry after `Retry-After` seconds")
            .content("application/json", error_body())
            .header("Retry-After", integer())
            .header("RateLimit-Limit", integer())
            .header("RateLimit-Remaining", integer())
            .header("RateLimit-Reset", integer())
            .build();
        let unavailable = ResponseBuilder::new()
            .description("A dependency (PostgreSQL, S3) is unavailable or the request ran out of time: retry after `Retry-After` seconds")
            .content("application/json", error_body())
            .header("Retry-After", integer())
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses
                    .entry("429".into())
                    .or_insert_with(|| rate_limited.clone().into());
                responses
                    .entry("503".into())
                    .or_insert_with(|| unavailable.clone().into());
            }
        }
    }
}

/// The image types a multipart upload's `file` part may be, which the annotation syntax
/// cannot say: clients and generated tests then know what to put in it.
struct UploadEncoding;

impl Modify for UploadEncoding {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let multipart = openapi
            .paths
            .paths
            .get_mut("/v1/images")
            .and_then(|item| item.post.as_mut())
            .and_then(|upload| upload.request_body.as_mut())
            .and_then(|body| body.content.get_mut("multipart/form-data"));
        if let Some(content) = multipart {
            content.encoding.insert(
                "file".into(),
                Encoding::builder()
                    .content_type(Some(
                        "image/jpeg, image/png, image/webp, image/gif, image/heif, image/avif",
                    ))
                    .build(),
            );
        }
    }
}

/// The API's OpenAPI document, as served at `/v1/openapi.json` (and committed as
/// `packages/api-client/openapi.json`, which the typed client is generated from).
pub fn openapi_document() -> &'static serde_json::Value {
    openapi()
}

/// The document as JSON, built once.
pub(super) fn openapi() -> &'static serde_json::Value {
    static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
        let mut document =
            serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
        camel_case_links(&mut document);
        document
    });
    &DOCUMENT
}

/// utoipa 5.5 writes a Link Object's fields in snake case (`operation_id`), which no
/// OpenAPI tool reads; the specification's names are camel case.
fn camel_case_links(document: &mut serde_json::Value) {
    let operations = document
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    let links = operations
        .filter_map(|operation| operation.get_mut("responses")?.as_object_mut())
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links")?.as_object_mut())
        .flat_map(|links| links.values_mut())
        .filter_map(serde_json::Value::as_object_mut);
    for link in links {
        for (from, to) in [
            ("operation_id", "operationId"),
            ("operation_ref", "operationRef"),
            ("request_body", "requestBody"),
        ] {
            if let Some(value) = link.remove(from) {
                link.insert(to.into(), value);
            }
        }
    }
}

pub(super) async fn document() -> Json<&'static serde_json::Value> {
    Json(openapi())
}
