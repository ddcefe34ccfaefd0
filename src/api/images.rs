//! Images: list, metadata, URL minting and deletion, each scoped to the caller (the upload
//! is [`super::upload`]).
//! Another user's image answers exactly like one that does not exist.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use imgedge_url::{ImageId, TransformSpec, UrlError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::caller::{AuthUser, WriteUser};
use super::edit::is_slug;
use super::error::{ApiError, Invalid};
use super::presets;
use super::representation::{
    ImageMetadata, check_if_match, document_response, etag_of, metadata, not_modified, signed_url,
    url_key,
};
use super::{AppState, UserClass, with_limit_headers};
use crate::cache::MetaCache;
use crate::db::{Image, ImageFilter, PageCursor, PendingPurge, SortOrder};
use crate::error::ErrorBody;

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;
/// Most tags one listing filters by.
const MAX_FILTER_TAGS: usize = 32;
/// The longest `q`, in characters.
const MAX_WORDS: usize = 200;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImageList {
    pub items: Vec<ImageMetadata>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The listing's parameters, for the OpenAPI document (the handler parses the raw query,
/// where `tag` may repeat).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ListParams {
    /// Page size (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page (with the same filters and sort).
    cursor: Option<String>,
    /// Only images with this tag; repeat it for images with all of them.
    #[param(explode = true, max_items = 32)]
    tag: Option<Vec<String>>,
    /// Only images of this source format.
    #[param(pattern = "^(jpeg|png|webp|gif|heic|avif)$")]
    format: Option<String>,
    /// Only images uploaded after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    created_after: Option<String>,
    /// Only images uploaded before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    created_before: Option<String>,
    /// Words that must all appear in the title, the alt text or the file name.
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    q: Option<String>,
    /// `newest` (the default) or `oldest` first.
    #[param(pattern = "^(newest|oldest)$")]
    sort: Option<String>,
}

/// A listing request, parsed: the page and the filter.
#[derive(Debug, Default)]
struct Listing {
    limit: u32,
    cursor: Option<PageCursor>,
    filter: ImageFilter,
}

impl Listing {
    fn parse(raw: &str) -> Result<Listing, ApiError> {
        let mut listing = Listing {
            limit: DEFAULT_PAGE,
            ..Listing::default()
        };
        let time = |v: &str, name: &'static str| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
                Invalid::Filter(name, "is an RFC 3339 time, such as 2026-01-31T12:00:00Z")
            })
        };
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            let filter = &mut listing.filter;
            match name.as_ref() {
                "limit" => {
                    listing.limit = value
                        .parse()
                        .ok()
                        .filter(|l| (1..=MAX_PAGE).contains(l))
                        .ok_or(Invalid::Limit(MAX_PAGE))?;
                }
                "cursor" => {
                    listing.cursor = Some(PageCursor::decode(&value).ok_or(Invalid::Cursor)?);
                }
                "tag" => {
                    let tag = value.to_lowercase();
                    if !is_slug(&tag) || filter.tags.len() == MAX_FILTER_TAGS {
                        return Err(Invalid::Filter(
                            "tag",
                            "is a tag (a-z, 0-9 and single hyphens), given at most 32 times",
                        )
                        .into());
                    }
                    if !filter.tags.contains(&tag) {
                        filter.tags.push(tag);
                    }
                }
                "format" => {
                    if imgedge_engine::SourceFormat::from_name(&value).is_none() {
                        return Err(Invalid::Filter(
                            "format",
                            "is jpeg, png, webp, gif, heic or avif",
                        )
                        .into());
                    }
                    filter.format = Some(value.into_owned());
                }
                "created_after" => filter.created_after = Some(time(&value, "created_after")?),
                "created_before" => filter.created_before = Some(time(&value, "created_before")?),
                "q" => {
                    if value.chars().count() > MAX_WORDS || value.contains('\0') {
                        return Err(Invalid::Filter(
                            "q",
                            "is at most 200 characters, none of them NUL",
                        )
                        .into());
                    }
                    // Words only: a `q` of punctuation alone filters nothing.
                    if value.chars().any(char::is_alphanumeric) {
                        filter.words = Some(value.into_owned());
                    }
                }
                "sort" => {
                    filter.order = match value.as_ref() {
                        "newest" => SortOrder::NewestFirst,
                        "oldest" => SortOrder::OldestFirst,
                        _ => return Err(Invalid::Filter("sort", "is newest or oldest").into()),
                    };
                }
                // Unknown parameters are ignored, as before filters existed.
                _ => {}
            }
        }
        Ok(listing)
    }

    /// Whether this is the gallery's opening page, the one page that is cached.
    fn is_first_default_page(&self) -> bool {
        self.cursor.is_none() && self.limit == DEFAULT_PAGE && self.filter == ImageFilter::default()
    }
}

/// A minted transform URL.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MintedUrl {
    pub url: String,
    pub canonical_query: String,
    pub sig: String,
}

/// `image`'s metadata document, with its owner's presets.
pub(super) async fn document_of(
    state: &AppState,
    owner: Uuid,
    image: &Image,
) -> Result<ImageMetadata, ApiError> {
    let mut links = presets::links(state, owner, &[image]).await?;
    Ok(metadata(
        state,
        image,
        links.remove(&image.id).unwrap_or_default(),
    ))
}

/// The `{id}` of an image's path, parsed before the handler runs: a lowercase hyphenated
/// UUID, else `bad_image_id` (a path segment that is not even UTF-8 included, so axum's own
/// rejection text never reaches the client).
pub(super) struct ImagePath(pub(super) Uuid);

impl<S: Send + Sync> FromRequestParts<S> for ImagePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Url(UrlError::BadImageId))?;
        raw.parse::<ImageId>()
            .map(|id| ImagePath(*id.as_uuid()))
            .map_err(|_| ApiError::Url(UrlError::BadImageId))
    }
}

/// The caller's image, from the cache or the database. Cached entries carry their owner,
/// so a cache hit is scoped exactly like the query.
pub(super) async fn owned_image(state: &AppState, user: Uuid, id: Uuid) -> Result<Image, ApiError> {
    let key = MetaCache::image_key(id);
    if let Some(image) = state.0.cache.get::<Image>(&key).await {
        return if image.owner_id == user {
            Ok(image)
        } else {
            Err(ApiError::NotFound)
        };
    }
    let image = state
        .0
        .db
        .image(user, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    state.0.cache.put(&key, &image).await;
    Ok(image)
}

#[utoipa::path(get, path = "/v1/images", tag = "images",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "The caller's images that pass the filters, newest first unless `sort=oldest`", body = ImageList),
        (status = 400, description = "Bad limit, cursor (`bad_cursor`) or filter (`bad_filter`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub(super) async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Read, user).await?;
    let listing = Listing::parse(query.as_deref().unwrap_or_default())?;
    // Only the default first page is cached: it is what a gallery opens with.
    let cache_key = listing
        .is_first_default_page()
        .then(|| MetaCache::first_page_key(user));
    if let Some(key) = &cache_key
        && let Some(page) = state.0.cache.get::<ImageList>(key).await
    {
        return Ok(with_limit_headers(&decision, Json(page)));
    }
    let mut rows = state
        .0
        .db
        .search_images(
            user,
            &listing.filter,
            listing.limit + 1,
            listing.cursor.as_ref(),
        )
        .await?;
    let next_cursor = if rows.len() > listing.limit as usize {
        rows.truncate(listing.limit as usize);
        rows.last().map(|last| last.cursor().encode())
    } else {
        None
    };
    let page_images: Vec<&Image> = rows.iter().collect();
    let mut links = presets::links(&state, user, &page_images).await?;
    let page = ImageList {
        items: rows
            .iter()
            .map(|image| metadata(&state, image, links.remove(&image.id).unwrap_or_default()))
            .collect(),
        next_cursor,
    };
    if let Some(key) = &cache_key {
        state.0.cache.put(key, &page).await;
    }
    Ok(with_limit_headers(&decision, Json(page)))
}

#[utoipa::path(get, path = "/v1/images/{id}", tag = "images",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Image id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` the client holds: `304` when it is still current"),
    ),
    responses(
        (status = 200, description = "The image's metadata, with its `ETag`", body = ImageMetadata,
            headers(("ETag" = String, description = "Changes whenever this document does; send it as `If-Match` to edit or delete")),
            links(
                ("MintUrl" = (operation_id = "mint_url", parameters(("id" = "$response.body#/id")))),
                ("DeleteImage" = (operation_id = "delete", parameters(("id" = "$response.body#/id")))),
                ("EditImage" = (operation_id = "edit", parameters(("id" = "$response.body#/id")))),
                ("ListVariants" = (operation_id = "list_variants", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 304, description = "Not modified: the `ETag` in `If-None-Match` is current"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such image for this user", body = ErrorBody),
    ))]
pub(super) async fn get(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ImagePath(id): ImagePath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Read, user).await?;
    let image = owned_image(&state, user, id).await?;
    let document = document_of(&state, user, &image).await?;
    if let Some(unchanged) = not_modified(&headers, &etag_of(&document)) {
        return Ok(with_limit_headers(&decision, unchanged));
    }
    Ok(with_limit_headers(
        &decision,
        document_response(StatusCode::OK, document),
    ))
}

/// The transform parameters of `transform-url-v1` and `v1.1`, for the OpenAPI document only: the handler
/// reads the raw query with [`TransformSpec::parse`], the one parser of transform queries.
/// Each schema accepts exactly what that parser accepts, so that generated requests (the
/// schemathesis run) can tell a valid query from an invalid one.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case)]
struct TransformParams {
    /// `x,y,w,h`: the region of the upright original cut before anything else; `x` and `y`
    /// 0 to 65535, `w` and `h` 1 to 65535 (leading zeros allowed). A region wholly outside
    /// the image is answered 422 `crop_outside` when rendered.
    #[param(
        pattern = r"^0*([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]),0*([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]),0*([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]),0*([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$"
    )]
    crop: Option<String>,
    /// Output width in pixels.
    #[param(minimum = 1, maximum = 8192)]
    width: Option<u32>,
    /// Output height in pixels.
    #[param(minimum = 1, maximum = 8192)]
    height: Option<u32>,
    /// Device pixel ratio, 1 to 4 once rounded half-up to tenths: multiplies `width` and
    /// `height`. The pattern: what rounds to 1.0 from below, 1 to 3 with any fraction, and 4
    /// with a fraction that rounds to 4.0.
    #[param(pattern = r"^(0+\.9[5-9][0-9]*|0*[1-3](\.[0-9]+)?|0*4(\.0([0-4][0-9]*)?)?)$")]
    dpr: Option<String>,
    /// How `width` and `height` together are met (default `cover`).
    #[param(pattern = "^(cover|contain|fill|inside|outside)$")]
    fit: Option<String>,
    /// Which part a `cover` keeps: a compass word, `attention`, `entropy`, or a focal point
    /// `X,Y` of decimals 0 to 1 (rounded half-up to thousandths).
    #[param(
        pattern = r"^(center|centre|north|northeast|east|southeast|south|southwest|west|northwest|attention|entropy|(0+(\.[0-9]+)?|0*1(\.0{1,3}|\.000[0-4][0-9]*)?),(0+(\.[0-9]+)?|0*1(\.0{1,3}|\.000[0-4][0-9]*)?))$"
    )]
    gravity: Option<String>,
    /// Degrees, clockwise; any integer, taken modulo 360.
    rotate: Option<i64>,
    /// Top-bottom.
    #[param(pattern = "^(1|true|0|false)$")]
    flip: Option<String>,
    /// Left-right.
    #[param(pattern = "^(1|true|0|false)$")]
    mirror: Option<String>,
    #[param(pattern = "^(1|true|0|false)$")]
    grayscale: Option<String>,
    /// Gaussian sigma, 0 (none) or 0.3 to 100 once rounded half-up to tenths. The pattern:
    /// leading zeros allowed; below 1, what rounds to 0 or to 0.3 and more; 1 to 99 with any
    /// fraction; 100 with a fraction that rounds to 100.0.
    #[param(
        pattern = r"^(0+(\.(0([0-4][0-9]*)?|2[5-9][0-9]*|[3-9][0-9]*))?|0*[1-9][0-9]?(\.[0-9]+)?|0*100(\.0([0-4][0-9]*)?)?)$"
    )]
    blur: Option<String>,
    /// Unsharp-mask sigma, 0 (none) or 0.3 to 10 once rounded half-up to tenths (the
    /// pattern as `blur`'s, up to 10).
    #[param(
        pattern = r"^(0+(\.(0([0-4][0-9]*)?|2[5-9][0-9]*|[3-9][0-9]*))?|0*[1-9](\.[0-9]+)?|0*10(\.0([0-4][0-9]*)?)?)$"
    )]
    sharpen: Option<String>,
    /// `RRGGBB` or `RRGGBBAA` in hexadecimal: fills `contain`'s bars, rotation corners, and
    /// transparency in outputs without alpha.
    #[param(pattern = "^([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")]
    background: Option<String>,
    /// Encoder quality (default 80).
    #[param(minimum = 1, maximum = 100)]
    quality: Option<u8>,
    /// A palette PNG of at most 256 colours (for `png` output).
    #[param(pattern = "^(1|true|0|false)$")]
    palette: Option<String>,
    /// Output format (default: the original's, or `png`/`jpeg` for other formats); `auto`
    /// chooses AVIF, WebP, or JPEG (PNG with alpha) from each request's `Accept`.
    #[param(pattern = "^(auto|jpeg|jpg|png|webp|avif)$")]
    format: Option<String>,
    /// Text drawn on the image: at most 64 characters after NFC, no control characters.
    #[param(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    watermarkText: Option<String>,
}

#[utoipa::path(get, path = "/v1/images/{id}/url", tag = "images",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id"), TransformParams),
    responses(
        (status = 200, description = "The signed canonical URL for these parameters (a `cover` box with no `crop` and no `gravity` takes the image's `focus`, as `gravity=X,Y`)", body = MintedUrl),
        (status = 400, description = "A parameter outside the spec (its code says which rule)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such image for this user", body = ErrorBody),
    ))]
pub(super) async fn mint_url(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ImagePath(id): ImagePath,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Mint, user).await?;
    let spec = TransformSpec::parse(query.as_deref().unwrap_or_default())?.into_spec();
    let image = owned_image(&state, user, id).await?;
    let image_id = ImageId::from_uuid(id);
    let key = url_key(&state, &image);
    // The image's focal point fills a cover that names no gravity, so that one intent
    // gives one URL whoever mints it.
    let spec = match image.focus() {
        Some((x, y)) => spec.with_focus(x, y),
        None => spec,
    };
    let canonical_query = spec.canonical_query();
    let (url, sig) = signed_url(&state, &image_id, &key, &canonical_query);
    Ok(with_limit_headers(
        &decision,
        Json(MintedUrl {
            url,
            canonical_query,
            sig: sig.to_string(),
        }),
    ))
}

#[utoipa::path(delete, path = "/v1/images/{id}", tag = "images",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Image id"),
        ("If-Match" = Option<String>, Header, description = "The image's `ETag`: deleted only if the image is still as read"),
    ),
    responses(
        (status = 204, description = "Deleted: metadata, original, every variant, and the CDN's copies"),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A read-only API key (`insufficient_scope`)", body = ErrorBody),
        (status = 404, description = "No such image for this user", body = ErrorBody),
        (status = 412, description = "`If-Match` does not match the image's `ETag` (`precondition_failed`)", body = ErrorBody),
    ))]
pub(super) async fn delete(
    State(state): State<AppState>,
    WriteUser(user): WriteUser,
    ImagePath(id): ImagePath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let image_id = ImageId::from_uuid(id);
    // With `If-Match`, the row is deleted only at the revision whose document matched.
    let revision = if headers.contains_key(axum::http::header::IF_MATCH) {
        let image = state
            .0
            .db
            .image(user, id)
            .await?
            .ok_or(ApiError::NotFound)?;
        check_if_match(
            &headers,
            &etag_of(&document_of(&state, user, &image).await?),
        )?;
        Some(image.revision)
    } else {
        None
    };
    // The row goes first, and its purge is owed in the same transaction: from then on the
    // image is gone for its owner and for the transformer, and the CDN will be told,
    // whatever happens to this process.
    let purges = &state.0.purges;
    let Some(owed) = state
        .0
        .db
        .delete_image_owing_purge(
            user,
            id,
            revision,
            &image_id.invalidation_path(),
            purges.policy().lease,
        )
        .await?
    else {
        // Gone meanwhile, or changed since its `ETag` matched.
        return Err(
            match (revision, state.0.db.image_revision(user, id).await?) {
                (Some(_), Some(_)) => ApiError::PreconditionFailed,
                _ => ApiError::NotFound,
            },
        );
    };
    state
        .0
        .cache
        .delete(&[&MetaCache::image_key(id), &MetaCache::first_page_key(user)])
        .await;
    // The objects and the purge's first send go in a task of their own: it finishes even
    // when the client hangs up or the request times out. The response still waits for it in
    // the normal case, so a 204 usually means the CDN has already forgotten the image.
    let cleanup = tokio::spawn(remove_objects(state.clone(), image_id, owed));
    if let Err(err) = cleanup.await {
        tracing::error!(%id, error = %err, "delete cleanup task failed");
    }
    Ok(with_limit_headers(
        &decision,
        (StatusCode::NO_CONTENT, Body::empty()),
    ))
}

#[utoipa::path(post, path = "/v1/images/{id}/rotate-key", tag = "images",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Image id")),
    responses(
        (status = 200, description = "The key is rotated: the image's metadata with its new `url_key`. \
            Every URL signed with an older key stops working; every variant is deleted and purged \
            from the CDN", body = ImageMetadata),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A read-only API key (`insufficient_scope`)", body = ErrorBody),
        (status = 404, description = "No such image for this user", body = ErrorBody),
    ))]
/// Rotates an image's `url_key` to its next epoch (transform URLs 1.1): the answer to a
/// leaked key. The epoch, the forgetting of the variants' rows and the cleanup owed (the
/// old objects swept from S3, then the CDN purged; again after `ROTATION_SWEEP_AGAIN`)
/// commit together; the answer waits for the first cleanup's attempt.
pub(super) async fn rotate_key(
    State(state): State<AppState>,
    WriteUser(user): WriteUser,
    ImagePath(id): ImagePath,
) -> Result<Response, ApiError> {
    let decision = state.limit_user(UserClass::Write, user).await?;
    let image_id = ImageId::from_uuid(id);
    let purges = &state.0.purges;
    let Some((image, owed)) = state
        .0
        .db
        .rotate_key_owing_purge(
            user,
            id,
            &image_id.invalidation_path(),
            purges.policy().lease,
            crate::protocol::ROTATION_SWEEP_AGAIN,
        )
        .await?
    else {
        return Err(ApiError::NotFound);
    };
    state
        .0
        .cache
        .delete(&[&MetaCache::image_key(id), &MetaCache::first_page_key(user)])
        .await;
    state.0.purges.send_detached(owed, "a key rotation's").await;
    let document = document_of(&state, user, &image).await?;
    Ok(with_limit_headers(
        &decision,
        document_response(StatusCode::OK, document),
    ))
}

/// Removes an image's original and variants from S3, then sends the purge its delete owes.
/// Failures are logged and counted: `imgedge reconcile` removes objects left behind, and the
/// purge outbox sends the purge again until the CDN accepts it. S3 goes first, so that the
/// CDN cannot fetch a variant again between its purge and the object's removal.
async fn remove_objects(state: AppState, image_id: ImageId, owed: PendingPurge) {
    let id = image_id.as_uuid();
    if let Err(err) = state.0.store.delete(&image_id.original_key()).await {
        tracing::warn!(%id, error = %err, "original not deleted; reconcile will remove it");
        metrics::counter!("imgedge_delete_storage_errors_total").increment(1);
    }
    if let Err(err) = state
        .0
        .store
        .delete_prefix(&image_id.variants_prefix())
        .await
    {
        tracing::warn!(%id, error = %err, "variants not deleted; reconcile will remove them");
        metrics::counter!("imgedge_delete_storage_errors_total").increment(1);
    }
    if let Err(err) = state.0.purges.send_now(owed).await {
        tracing::info!(%id, error = %err, "CDN purge not sent yet; the outbox retries it");
    }
}
