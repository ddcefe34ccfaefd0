/**
 * Where a variant lives: the CDN cache key and the S3 key, both of which carry the accept
 * class for a `format=auto` URL (and only for one).
 *
 * - cache key: `/i/{image_id}/{sig}`, `?{canonical query}` unless empty, then `|{class}`
 *   for `format=auto` (`|` never appears in a canonical query: it is percent-encoded);
 * - S3 key: `v/{image_id}/{sig}`, then `.{class}` for `format=auto`.
 */
import { acceptClass, type AcceptClass } from "./accept.js";
import { canonicalPath, type VariantRef } from "./request.js";

/** Whether a canonical query asks for `format=auto` (so the accept class matters). */
export function isAutoFormat(canonicalQuery: string): boolean {
  // `&` and `=` inside a canonical value are percent-encoded: a piece is a whole pair.
  return canonicalQuery.split("&").includes("format=auto");
}

/**
 * The accept class a request is served for: that of its `Accept` header for a
 * `format=auto` URL, `null` for any other (whatever the headers).
 */
export function requestAcceptClass(
  request: Pick<VariantRef, "canonicalQuery">,
  accept: string | null | undefined,
): AcceptClass | null {
  return isAutoFormat(request.canonicalQuery) ? acceptClass(accept) : null;
}

/** The class a key carries: required for `format=auto`, ignored (none) for any other URL. */
function classSuffix(request: VariantRef, cls: AcceptClass | null, separator: string): string {
  if (!isAutoFormat(request.canonicalQuery)) return "";
  if (cls === null) throw new TypeError("a format=auto variant needs its accept class");
  return `${separator}${cls}`;
}

/** The cache key of a canonical request: `/i/{id}/{sig}[?{query}][|{class}]`. */
export function cacheKey(request: VariantRef, cls: AcceptClass | null): string {
  return canonicalPath(request) + classSuffix(request, cls, "|");
}

/** The S3 key of a variant: `v/{image_id}/{sig}`, plus `.{class}` for `format=auto`. */
export function variantKey(request: VariantRef, cls: AcceptClass | null): string {
  return `v/${request.imageId}/${request.sig}` + classSuffix(request, cls, ".");
}

/** The S3 key of an original: `o/{image_id}`. */
export function originalKey(imageId: string): string {
  return `o/${imageId}`;
}
