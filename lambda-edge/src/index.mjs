// The Lambda@Edge function of the /i/* behaviour: the same rules as the local edge's
// origin request (src/edge/mod.rs), for CloudFront, with transform URLs 1.1 parsed by the
// shared package (@imgedge/transform-url). It holds no secret and needs none: it parses and
// canonicalises, and leaves the signature to the transformer.
//
// origin-request (once per cache miss, and again when the origin group fails over):
//   - malformed URL → generated 400 {"error", "message"}, cached briefly;
//   - valid but not canonical → generated 301 to the canonical URL (same id and sig);
//   - S3 origin → the request becomes GET /v/{image_id}/{sig} without a query, or
//     GET /v/{image_id}/{sig}.{class} for a format=auto URL;
//   - the transformer (custom origin) → GET /i/{image_id}/{sig}?{canonical query}.
//   Both carry x-imgedge-accept (the accept class) for a format=auto URL, and never for
//   another.
// origin-response (S3 only): a stored variant is this URL's only if it renders this
//   query; a sig copied onto another query is answered 403, as the transformer would. A
//   format=auto variant gets `Vary: Accept` (S3 stores no Vary).
//
// The accept class of a format=auto URL is the x-imgedge-accept header as the viewer-request
// CloudFront Function of /i/* set it from the viewer's Accept (the cache policy keys on it,
// so the class of the S3 key is that of the cache entry). The function trusts it: on
// CloudFront every viewer request of /i/* goes through the viewer function, which replaces
// whatever a client sent, and a viewer cannot bypass it. Should the header be missing or
// not a class (a distribution without the viewer function), the class is computed here
// from Accept, when forwarded, else it is `basic`, which every client can display.

import {
  ACCEPT_CLASS_HEADER,
  UrlError,
  acceptClass,
  canonicalPath,
  isAcceptClass,
  isAutoFormat,
  parseTransformRequest,
  variantKey,
} from '@imgedge/transform-url';

import { badRequest, badSignature, redirect } from './responses.mjs';

/** @typedef {import('aws-lambda').CloudFrontRequest} CloudFrontRequest */
/** @typedef {import('aws-lambda').CloudFrontResponse} CloudFrontResponse */
/** @typedef {import('aws-lambda').CloudFrontHeaders} CloudFrontHeaders */
/** @typedef {import('aws-lambda').CloudFrontRequestEvent} CloudFrontRequestEvent */
/** @typedef {import('aws-lambda').CloudFrontResponseEvent} CloudFrontResponseEvent */
/** @typedef {import('aws-lambda').CloudFrontRequestResult} CloudFrontRequestResult */
/** @typedef {import('aws-lambda').CloudFrontResponseResult} CloudFrontResponseResult */
/** @typedef {import('@imgedge/transform-url').AcceptClass} AcceptClass */

/**
 * The request header that carries the canonical query to S3 (which ignores it) so that
 * the origin-response trigger, which sees the request as forwarded (query removed), can
 * compare it with the variant's `x-amz-meta-canonical-query`.
 */
export const CANONICAL_QUERY_HEADER = 'x-imgedge-canonical-query';

/** The user metadata the transformer stores with each variant: the query it renders. */
export const STORED_QUERY_HEADER = 'x-amz-meta-canonical-query';

export { ACCEPT_CLASS_HEADER };

/**
 * The viewer's path and query. On a failover CloudFront invokes the function again for
 * the secondary origin; should it hand back the request as rewritten for S3
 * (`/v/{image_id}/{sig}[.{class}]`), the viewer's path and canonical query are recovered
 * from it, so the rewrite is idempotent.
 * @param {CloudFrontRequest} request
 */
function viewerTarget(request) {
  const carried = request.headers[CANONICAL_QUERY_HEADER]?.[0]?.value;
  if (carried !== undefined && request.uri.startsWith('/v/')) {
    const key = request.uri.slice('/v/'.length);
    // A sig is base64url: a `.` can only start the class suffix.
    const dot = key.indexOf('.');
    return { path: `/i/${dot < 0 ? key : key.slice(0, dot)}`, query: carried };
  }
  return { path: request.uri, query: request.querystring };
}

/**
 * Every value of a header, joined as one (`undefined` when absent).
 * @param {CloudFrontHeaders} headers
 * @param {string} name lowercase
 */
function headerValue(headers, name) {
  const values = headers[name];
  return values === undefined || values.length === 0 ? undefined : values.map((h) => h.value).join(',');
}

/**
 * The accept class of a format=auto request: the viewer function's header, trusted (see
 * above); else the class of the forwarded Accept, if any.
 * @param {CloudFrontHeaders} headers
 * @returns {AcceptClass}
 */
function requestClass(headers) {
  const given = headers[ACCEPT_CLASS_HEADER]?.[0]?.value;
  return isAcceptClass(given) ? given : acceptClass(headerValue(headers, 'accept'));
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

  // The class exists for a format=auto URL only: no other origin request carries one.
  const cls = isAutoFormat(parsed.canonicalQuery) ? requestClass(request.headers) : null;
  if (cls === null) {
    delete request.headers[ACCEPT_CLASS_HEADER];
  } else {
    request.headers[ACCEPT_CLASS_HEADER] = [{ key: 'X-Imgedge-Accept', value: cls }];
  }

  if (request.origin?.s3) {
    // S3 serves the rendered variant if there is one; its 403/404 makes CloudFront fail
    // over to the transformer. The origin object is left alone so that OAC signs the
    // request.
    request.uri = `/${variantKey(parsed, cls)}`;
    request.querystring = '';
    request.headers[CANONICAL_QUERY_HEADER] = [
      { key: 'X-Imgedge-Canonical-Query', value: parsed.canonicalQuery },
    ];
  } else {
    // The transformer verifies the sig over exactly this path and query, and renders (and
    // stores) a format=auto variant for the class it is given.
    request.uri = `/i/${parsed.imageId}/${parsed.sig}`;
    request.querystring = parsed.canonicalQuery;
    delete request.headers[CANONICAL_QUERY_HEADER];
  }
  return request;
}

/**
 * Adds `Accept` to a response's `Vary` (once).
 * @param {CloudFrontHeaders} headers
 */
function varyOnAccept(headers) {
  const vary = headerValue(headers, 'vary');
  const names = vary === undefined ? [] : vary.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.some((name) => name === '*' || name.toLowerCase() === 'accept')) return;
  headers.vary = [{ key: 'Vary', value: [...names, 'Accept'].join(', ') }];
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
  if (stored === expected) {
    // S3 keeps no Vary: a format=auto variant gets the `Vary: Accept` the transformer
    // answers with, so that browsers and other caches know the body depends on Accept.
    if (isAutoFormat(expected)) varyOnAccept(response.headers);
    return response;
  }
  // Transfer-Encoding and Via are read-only in origin-response events: kept as they are.
  /** @type {CloudFrontHeaders} */
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
