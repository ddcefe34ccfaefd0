// The Lambda@Edge function of the /i/* behaviour: the same rules as the local edge's
// origin request (src/edge/mod.rs), for CloudFront. It holds no secret and needs none: it
// parses and canonicalises, and leaves the signature to the transformer.
//
// origin-request (once per cache miss, and again when the origin group fails over):
//   - malformed URL → generated 400 {"error", "message"}, cached briefly;
//   - valid but not canonical → generated 301 to the canonical URL (same id and sig);
//   - S3 origin → the request becomes GET /v/{image_id}/{sig} without a query;
//   - the transformer (custom origin) → GET /i/{image_id}/{sig}?{canonical query}.
// origin-response (S3 only): a stored variant is this URL's only if it renders this
//   query; a sig copied onto another query is answered 403, as the transformer would.

import { UrlError } from './errors.mjs';
import { canonicalPath, parseTransformRequest, variantKey } from './request.mjs';
import { badRequest, badSignature, redirect } from './responses.mjs';

/** @typedef {import('aws-lambda').CloudFrontRequest} CloudFrontRequest */
/** @typedef {import('aws-lambda').CloudFrontResponse} CloudFrontResponse */
/** @typedef {import('aws-lambda').CloudFrontRequestEvent} CloudFrontRequestEvent */
/** @typedef {import('aws-lambda').CloudFrontResponseEvent} CloudFrontResponseEvent */
/** @typedef {import('aws-lambda').CloudFrontRequestResult} CloudFrontRequestResult */
/** @typedef {import('aws-lambda').CloudFrontResponseResult} CloudFrontResponseResult */

/**
 * The request header that carries the canonical query to S3 (which ignores it) so that
 * the origin-response trigger, which sees the request as forwarded (query removed), can
 * compare it with the variant's `x-amz-meta-canonical-query`.
 */
export const CANONICAL_QUERY_HEADER = 'x-imgedge-canonical-query';

/** The user metadata the transformer stores with each variant: the query it renders. */
export const STORED_QUERY_HEADER = 'x-amz-meta-canonical-query';

/**
 * The viewer's path and query. On a failover CloudFront invokes the function again for
 * the secondary origin; should it hand back the request as rewritten for S3, the viewer's
 * path and canonical query are recovered from it, so the rewrite is idempotent.
 * @param {CloudFrontRequest} request
 */
function viewerTarget(request) {
  const carried = request.headers[CANONICAL_QUERY_HEADER]?.[0]?.value;
  if (carried !== undefined && request.uri.startsWith('/v/')) {
    return { path: `/i/${request.uri.slice(3)}`, query: carried };
  }
  return { path: request.uri, query: request.querystring };
}

/**
 * @param {CloudFrontRequest} request
 * @returns {CloudFrontRequestResult}
 */
export function onOriginRequest(request) {
  const { path, query } = viewerTarget(request);
  let parsed;
  try {
    parsed = parseTransformRequest(path, query);
  } catch (error) {
    if (error instanceof UrlError) return badRequest(error);
    throw error;
  }
  if (!parsed.isCanonical) return redirect(canonicalPath(parsed));

  if (request.origin?.s3) {
    // S3 serves the rendered variant if there is one; its 403/404 makes CloudFront fail
    // over to the transformer. The origin object is left alone so that OAC signs the
    // request.
    request.uri = `/${variantKey(parsed)}`;
    request.querystring = '';
    request.headers[CANONICAL_QUERY_HEADER] = [
      { key: 'X-Imgedge-Canonical-Query', value: parsed.canonicalQuery },
    ];
  } else {
    // The transformer verifies the sig over exactly this path and query.
    request.uri = `/i/${parsed.imageId}/${parsed.sig}`;
    request.querystring = parsed.canonicalQuery;
    delete request.headers[CANONICAL_QUERY_HEADER];
  }
  return request;
}

/**
 * @param {CloudFrontRequest} request the request as forwarded to the origin
 * @param {CloudFrontResponse} response
 * @returns {CloudFrontResponseResult}
 */
export function onOriginResponse(request, response) {
  const expected = request.headers[CANONICAL_QUERY_HEADER]?.[0]?.value;
  // Only the S3 request carries the header: the transformer's answers are its own.
  if (expected === undefined || response.status !== '200') return response;
  const stored = response.headers[STORED_QUERY_HEADER]?.[0]?.value ?? '';
  if (stored === expected) return response;
  // Transfer-Encoding and Via are read-only in origin-response events: kept as they are.
  /** @type {import('aws-lambda').CloudFrontHeaders} */
  const kept = {};
  for (const name of ['transfer-encoding', 'via']) {
    const value = response.headers[name];
    if (value !== undefined) kept[name] = value;
  }
  const refusal = badSignature();
  return { ...refusal, headers: { ...kept, ...refusal.headers } };
}

/**
 * The handler, for both triggers of the /i/* behaviour.
 * @param {CloudFrontRequestEvent | CloudFrontResponseEvent} event
 * @returns {Promise<CloudFrontRequestResult | CloudFrontResponseResult>}
 */
export async function handler(event) {
  const record = event.Records[0];
  if (record === undefined) throw new Error('imgedge edge function: an event without a record');
  const { cf } = record;
  switch (cf.config.eventType) {
    case 'origin-request':
      return onOriginRequest(/** @type {CloudFrontRequestEvent['Records'][0]['cf']} */ (cf).request);
    case 'origin-response': {
      const { request, response } = /** @type {CloudFrontResponseEvent['Records'][0]['cf']} */ (cf);
      return onOriginResponse(request, response);
    }
    default:
      throw new Error(`imgedge edge function: unexpected event type ${cf.config.eventType}`);
  }
}
