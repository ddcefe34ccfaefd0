// Responses the function generates itself, in CloudFront's shape. The lifetimes are the
// local edge's (src/edge/mod.rs): CloudFront caches a generated response by its
// Cache-Control like any other, so a burst of bad URLs stops at the edge.

/** @typedef {import('aws-lambda').CloudFrontHeaders} CloudFrontHeaders */
/** @typedef {import('aws-lambda').CloudFrontResultResponse} CloudFrontResultResponse */

/** How long a refusal that depends only on the URL (400, 403) may be cached. */
export const REFUSAL_CACHE_CONTROL = 'public, max-age=10';
/** How long a redirect to the canonical URL may be cached: it never changes. */
export const REDIRECT_CACHE_CONTROL = 'public, max-age=86400';

/**
 * CloudFront's header map from `[name, value]` pairs: lowercase keys, each holding the
 * header's spelling and value.
 * @param {[string, string][]} entries
 * @returns {CloudFrontHeaders}
 */
export function headers(entries) {
  /** @type {CloudFrontHeaders} */
  const out = {};
  for (const [key, value] of entries) {
    out[key.toLowerCase()] = [{ key, value }];
  }
  return out;
}

/**
 * The spec's error body, `{"error": CODE, "message": TEXT}`.
 * @param {string} status
 * @param {string} statusDescription
 * @param {string} code
 * @param {string} message
 * @returns {CloudFrontResultResponse & { headers: CloudFrontHeaders }}
 */
export function jsonError(status, statusDescription, code, message) {
  return {
    status,
    statusDescription,
    headers: headers([
      ['Content-Type', 'application/json'],
      ['Cache-Control', REFUSAL_CACHE_CONTROL],
    ]),
    body: JSON.stringify({ error: code, message }),
  };
}

/**
 * 400 for a malformed transform URL.
 * @param {{ code: string, message: string }} error
 */
export function badRequest(error) {
  return jsonError('400', 'Bad Request', error.code, error.message);
}

/**
 * 301 to the canonical URL of a valid but non-canonical request.
 * @param {string} location
 * @returns {CloudFrontResultResponse}
 */
export function redirect(location) {
  return {
    status: '301',
    statusDescription: 'Moved Permanently',
    headers: headers([
      ['Location', location],
      ['Cache-Control', REDIRECT_CACHE_CONTROL],
    ]),
  };
}

/** 403 for a stored variant that renders another query than the one requested. */
export function badSignature() {
  return jsonError(
    '403',
    'Forbidden',
    'bad_signature',
    'the signature does not match this image and query',
  );
}
