/**
 * `format=auto`'s accept classes (transform URLs 1.1): a request's `Accept` header reduced
 * to the one fact the output depends on, which edges key their caches by (header
 * `X-Imgedge-Accept`) and S3 keys carry (`v/{image_id}/{sig}.{class}`).
 *
 * This module imports nothing and uses nothing beyond ES2020 (indexed loops, string
 * methods), so that it can be bundled alone into a CloudFront Function.
 */

/** What a browser takes, as far as `format=auto` cares: AVIF, else WebP, else JPEG or PNG. */
export type AcceptClass = "avif" | "webp" | "basic";

/** Every accept class, best first. */
export const ACCEPT_CLASSES: readonly AcceptClass[] = ["avif", "webp", "basic"];

/** The request header that carries the accept class from the edge's viewer side onwards (lowercase). */
export const ACCEPT_CLASS_HEADER = "x-imgedge-accept";

/** Trims spaces and tabs only (not every kind of white space, as `String.prototype.trim` does). */
function trimSpaces(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  return text.substring(start, end);
}

/** ASCII-only lowercase (`toLowerCase` would also fold non-ASCII letters). */
function asciiLower(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : text.charAt(i);
  }
  return out;
}

/** An RFC 9110 qvalue equal to zero: `0`, `0.`, `0.0`, `0.00` or `0.000`. */
function isZeroQvalue(value: string): boolean {
  if (value.length === 0 || value.length > 5 || value.charAt(0) !== "0") return false;
  if (value.length === 1) return true;
  if (value.charAt(1) !== ".") return false;
  for (let i = 2; i < value.length; i++) {
    if (value.charAt(i) !== "0") return false;
  }
  return true;
}

/** Whether a media-range parameter (`name=value`) is `q` with a qvalue of zero. */
function isZeroQ(parameter: string): boolean {
  const eq = parameter.indexOf("=");
  if (eq < 0) return false;
  if (asciiLower(trimSpaces(parameter.substring(0, eq))) !== "q") return false;
  return isZeroQvalue(trimSpaces(parameter.substring(eq + 1)));
}

/**
 * The accept class of an `Accept` header's value (`null` or `undefined`: no header).
 *
 * The header is split on `,`, each element on `;`; the media type (spaces and tabs trimmed)
 * compares ASCII case-insensitively; an element with a parameter `q` whose value is zero
 * does not list its type, and every other parameter (a malformed `q` included) is ignored.
 * `image/avif` listed: `avif`; else `image/webp` listed: `webp`; else `basic` (`*\/*` and
 * `image/*` choose neither; no header or an empty one is `basic`).
 */
export function acceptClass(accept: string | null | undefined): AcceptClass {
  let avif = false;
  let webp = false;
  const elements = (accept === null || accept === undefined ? "" : accept).split(",");
  for (let i = 0; i < elements.length; i++) {
    const parts = elements[i]!.split(";");
    const type = asciiLower(trimSpaces(parts[0]!));
    if (type !== "image/avif" && type !== "image/webp") continue;
    let listed = true;
    for (let p = 1; p < parts.length; p++) {
      if (isZeroQ(parts[p]!)) listed = false;
    }
    if (!listed) continue;
    if (type === "image/avif") avif = true;
    else webp = true;
  }
  return avif ? "avif" : webp ? "webp" : "basic";
}

/** Whether `name` is an accept class, as `X-Imgedge-Accept` spells it. */
export function isAcceptClass(name: unknown): name is AcceptClass {
  return name === "avif" || name === "webp" || name === "basic";
}
