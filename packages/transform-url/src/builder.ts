/**
 * Signed URLs from typed parameters, built where the image's `url_key` is held (the owner's
 * frontend): no request to the API is needed to get a variant's URL.
 */
import { UrlError } from "./errors.js";
import { canonicalQuery, type ParamValues, type TransformOptions } from "./query.js";
import { isImageId, variantPath } from "./request.js";
import { signQuery, type Key } from "./sign.js";

/** What signing needs of an image: the API's `id` and `url_key` (64 hex characters, or bytes). */
export interface SigningImage {
  readonly id: string;
  readonly url_key: Key;
}

/** A signed variant: its canonical query, its sig and its path (`/i/...`). */
export interface SignedVariant {
  readonly canonicalQuery: string;
  readonly sig: string;
  readonly path: string;
}

/** Signs a canonical query for `image`. */
export function signVariant(image: SigningImage, canonical: string): SignedVariant {
  if (!isImageId(image.id)) throw UrlError.badImageId();
  const sig = signQuery(image.url_key, canonical);
  return { canonicalQuery: canonical, sig, path: variantPath(image.id, sig, canonical) };
}

/**
 * The signed variant of `image` for these parameters (typed options, or decoded values as
 * a form holds them). Throws {@link UrlError} for a value outside the spec, `TypeError` for
 * a key that is not one.
 */
export function transformVariant(image: SigningImage, params: TransformOptions | ParamValues): SignedVariant {
  return signVariant(image, canonicalQuery(params));
}

/** The variant's path, `/i/{id}/{sig}?{query}`. */
export function transformPath(image: SigningImage, params: TransformOptions | ParamValues): string {
  return transformVariant(image, params).path;
}

/** The variant's absolute URL under a CDN base (`https://cdn.example.com`, trailing `/` or not). */
export function transformUrl(cdnBase: string, image: SigningImage, params: TransformOptions | ParamValues): string {
  return cdnBase.replace(/\/+$/, "") + transformPath(image, params);
}
