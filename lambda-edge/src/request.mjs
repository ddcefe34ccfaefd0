// A whole `/i/{image_id}/{sig}?{query}` request, parsed: a port of the Rust
// `TransformRequest::parse` (src/url/request.rs). Path errors come first (bad_image_id,
// then bad_sig), then the query's.

import { UrlError } from './errors.mjs';
import { parseQuery } from './query.mjs';

/**
 * A well-formed transform request; its signature is not checked (the edge holds no
 * secret: the transformer verifies it).
 * @typedef {object} TransformRequest
 * @property {string} imageId lowercase hyphenated UUID
 * @property {string} sig 22 base64url characters
 * @property {string} canonicalQuery
 * @property {boolean} isCanonical
 */

const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// 22 base64url characters encode 132 bits, of which a 16-byte sig uses 128: the last
// character's 4 low bits must be zero (A, Q, g or w), so each sig has one spelling.
const SIG = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/**
 * @param {string} path the request path, `/i/{image_id}/{sig}` and nothing after
 * @param {string} rawQuery without `?`; empty when there is none
 * @returns {TransformRequest}
 * @throws {UrlError}
 */
export function parseTransformRequest(path, rawQuery) {
  if (!path.startsWith('/i/')) throw UrlError.badImageId();
  const rest = path.slice(3);
  const slash = rest.indexOf('/');
  const imageId = slash < 0 ? rest : rest.slice(0, slash);
  // Everything after the id is the sig, so `/i/{id}/{sig}/more` is a bad sig.
  const sig = slash < 0 ? undefined : rest.slice(slash + 1);
  if (!IMAGE_ID.test(imageId)) throw UrlError.badImageId();
  if (sig === undefined || !SIG.test(sig)) throw UrlError.badSig();
  const { canonicalQuery, isCanonical } = parseQuery(rawQuery);
  return { imageId, sig, canonicalQuery, isCanonical };
}

/**
 * `/i/{image_id}/{sig}`, plus `?{canonical query}` when that is not empty: the 301
 * target of a non-canonical request, and what the transformer origin is asked.
 * @param {TransformRequest} request
 */
export function canonicalPath(request) {
  const path = `/i/${request.imageId}/${request.sig}`;
  return request.canonicalQuery === '' ? path : `${path}?${request.canonicalQuery}`;
}

/**
 * The S3 key of the variant: `v/{image_id}/{sig}`.
 * @param {TransformRequest} request
 */
export function variantKey(request) {
  return `v/${request.imageId}/${request.sig}`;
}
