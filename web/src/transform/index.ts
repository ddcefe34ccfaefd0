/**
 * Transform URLs, version 1 (docs/transform-urls.md), built in the browser with an image's
 * `url_key`: no request to the API is needed to get a variant's URL.
 *
 * Proven against testdata/url-vectors.json by transform.test.ts.
 */
import type { Fit, OutputFormat } from "./params";
import { canonicalQueryOf, type ParamValues } from "./query";
import { keyFromHex, signQuery, variantPath } from "./sign";

export { UrlError, type UrlErrorCode } from "./errors";
export {
  DEFAULT_QUALITY,
  FITS,
  MAX_BLUR,
  MAX_DIMENSION,
  MAX_WATERMARK_CHARS,
  MIN_BLUR,
  OUTPUT_FORMATS,
  PARAM_NAMES,
  scalarLength,
  type Fit,
  type OutputFormat,
  type ParamName,
} from "./params";
export { canonicalQuery, canonicalQueryOf, formDecode, parseQuery, type ParamValues, type ParsedQuery } from "./query";
export { deriveUrlKey, signQuery, variantPath } from "./sign";
export { isImageId, requestOutcome, type Outcome } from "./request";

/** Typed transform parameters; anything left out keeps its default. */
export interface TransformOptions {
  width?: number;
  height?: number;
  fit?: Fit;
  rotate?: number;
  flip?: boolean;
  mirror?: boolean;
  grayscale?: boolean;
  blur?: number;
  quality?: number;
  format?: OutputFormat | "jpg";
  watermarkText?: string;
}

/** What signing needs of an image: the API's `id` and `url_key` (64 hex characters). */
export interface SigningImage {
  readonly id: string;
  readonly url_key: string;
}

/** A signed variant: its canonical query, its sig and its path (`/i/...`). */
export interface SignedVariant {
  readonly canonicalQuery: string;
  readonly sig: string;
  readonly path: string;
}

/** Typed options (or values already written as strings) as the decoded values of a query. */
export function toParamValues(options: TransformOptions | ParamValues): ParamValues {
  const values: ParamValues = {};
  for (const [name, value] of Object.entries(options) as [keyof TransformOptions, unknown][]) {
    if (value === undefined) continue;
    values[name] = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  }
  return values;
}

/** Signs a canonical query for `image`. */
export function signVariant(image: SigningImage, canonicalQuery: string): SignedVariant {
  const sig = signQuery(keyFromHex(image.url_key), canonicalQuery);
  return { canonicalQuery, sig, path: variantPath(image.id, sig, canonicalQuery) };
}

/**
 * The signed variant of `image` for these parameters (typed options, or decoded values as a
 * form holds them). Throws {@link UrlError} when a value is outside the spec.
 */
export function transformVariant(image: SigningImage, params: TransformOptions | ParamValues): SignedVariant {
  return signVariant(image, canonicalQueryOf(toParamValues(params)));
}

/** The variant's path, `/i/{id}/{sig}?{query}`: same origin as the page, as the edge serves it. */
export function transformPath(image: SigningImage, params: TransformOptions | ParamValues): string {
  return transformVariant(image, params).path;
}

