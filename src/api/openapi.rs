//! The API's OpenAPI 3 document, generated from the handlers' annotations and served at
//! `/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, error, health, images};

#[derive(OpenApi)]
#[openapi(
    info(title = "imgedge API", description = "Accounts, uploads, image metadata and signed transform URLs. Image bytes are served by the CDN, never by this API."),
    paths(
        auth::register, auth::login, auth::refresh,
        images::upload, images::list, images::get, images::mint_url, images::delete,
        health::healthz, health::readyz, health::metrics,
    ),
    components(schemas(
        error::ErrorBody, auth::Credentials, auth::Registered, auth::RefreshRequest, auth::Session,
        images::ImageMetadata, images::ImageList, images::MintedUrl,
    )),
    modifiers(&BearerAuth),
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

/// The document as a value (also used by tests).
pub(super) fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub(super) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
