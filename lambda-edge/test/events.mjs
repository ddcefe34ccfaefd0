// CloudFront events as Lambda@Edge receives them (the documented event structure: "Lambda@Edge
// event structure" in the CloudFront developer guide), for the two origins of the /i/*
// origin group: the bucket behind Origin Access Control, then the transformer.

/** @typedef {import('aws-lambda').CloudFrontRequestEvent} CloudFrontRequestEvent */
/** @typedef {import('aws-lambda').CloudFrontResponseEvent} CloudFrontResponseEvent */
/** @typedef {import('aws-lambda').CloudFrontRequest} CloudFrontRequest */
/** @typedef {import('aws-lambda').CloudFrontOrigin} CloudFrontOrigin */
/** @typedef {import('aws-lambda').CloudFrontHeaders} CloudFrontHeaders */

export const DISTRIBUTION = {
  distributionDomainName: 'd111111abcdef8.cloudfront.net',
  distributionId: 'EDFDVBD6EXAMPLE',
};

/**
 * The S3 origin as the event shows it with OAC: no origin access identity (`authMethod`
 * "none", hence no `region`; OAC signs after the function), the bucket's regional domain
 * name.
 * @returns {CloudFrontOrigin}
 */
export function s3Origin() {
  return {
    s3: {
      authMethod: 'none',
      customHeaders: {},
      domainName: 'imgedge-media-example.s3.us-east-1.amazonaws.com',
      path: '',
    },
  };
}

/**
 * The transformer behind its load balancer, as a custom origin with the origin secret
 * as an origin custom header (a placeholder here: the function never reads it).
 * @returns {CloudFrontOrigin}
 */
export function transformerOrigin() {
  return {
    custom: {
      customHeaders: {
        'x-imgedge-origin-secret': [{ key: 'X-Imgedge-Origin-Secret', value: 'placeholder' }],
      },
      domainName: 'internal-imgedge-alb-1234567890.us-east-1.elb.amazonaws.com',
      keepaliveTimeout: 5,
      path: '',
      port: 80,
      protocol: 'http',
      readTimeout: 60,
      sslProtocols: ['TLSv1.2'],
    },
  };
}

/**
 * The headers CloudFront forwards on the /i/* behaviour: none of the viewer's (the cache
 * policy and origin request policy forward none), only its own. The viewer-request
 * function's `x-imgedge-accept`, which the cache policy keys on, is added by the tests
 * that need it ({@link acceptHeaders}).
 * @returns {CloudFrontHeaders}
 */
function forwardedHeaders() {
  return {
    host: [{ key: 'Host', value: 'imgedge-media-example.s3.us-east-1.amazonaws.com' }],
    'user-agent': [{ key: 'User-Agent', value: 'Amazon CloudFront' }],
    via: [{ key: 'Via', value: '2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)' }],
    'x-forwarded-for': [{ key: 'X-Forwarded-For', value: '203.0.113.178' }],
  };
}

/**
 * Request headers in CloudFront's shape: `x-imgedge-accept` with the accept class (as the
 * viewer-request function sets it), and `accept`, each only when given.
 * @param {{ acceptClass?: string | null, accept?: string | null }} values
 * @returns {CloudFrontHeaders}
 */
export function acceptHeaders({ acceptClass = null, accept = null }) {
  /** @type {CloudFrontHeaders} */
  const headers = {};
  if (acceptClass !== null) headers['x-imgedge-accept'] = [{ key: 'X-Imgedge-Accept', value: acceptClass }];
  if (accept !== null) headers.accept = [{ key: 'Accept', value: accept }];
  return headers;
}

/**
 * @param {string} uri
 * @param {string} querystring
 * @param {CloudFrontOrigin} origin
 * @param {CloudFrontHeaders} [headers] more headers (e.g. {@link acceptHeaders})
 * @returns {CloudFrontRequest}
 */
export function request(uri, querystring, origin, headers = {}) {
  return {
    clientIp: '203.0.113.178',
    headers: { ...forwardedHeaders(), ...headers },
    method: 'GET',
    origin,
    querystring,
    uri,
  };
}

/**
 * @param {CloudFrontRequest} req
 * @returns {CloudFrontRequestEvent}
 */
export function originRequestEvent(req) {
  return {
    Records: [
      {
        cf: {
          config: { ...DISTRIBUTION, eventType: 'origin-request', requestId: '' },
          request: req,
        },
      },
    ],
  };
}

/**
 * An origin-response event: the request as it was forwarded, and the origin's answer.
 * @param {CloudFrontRequest} forwarded
 * @param {string} status
 * @param {CloudFrontHeaders} headers
 * @returns {CloudFrontResponseEvent}
 */
export function originResponseEvent(forwarded, status, headers) {
  return {
    Records: [
      {
        cf: {
          config: { ...DISTRIBUTION, eventType: 'origin-response', requestId: '' },
          request: forwarded,
          response: { status, statusDescription: status === '200' ? 'OK' : 'Error', headers },
        },
      },
    ],
  };
}

/**
 * What S3 answers for a stored variant: the Cache-Control and user metadata the
 * transformer stored it with.
 * @param {string} canonicalQuery
 * @returns {CloudFrontHeaders}
 */
export function storedVariantHeaders(canonicalQuery) {
  return {
    'content-type': [{ key: 'Content-Type', value: 'image/webp' }],
    'cache-control': [{ key: 'Cache-Control', value: 'public, max-age=31536000, immutable' }],
    etag: [{ key: 'ETag', value: '"9b2cf535f27731c974343645a3985328"' }],
    'x-amz-meta-canonical-query': [{ key: 'x-amz-meta-canonical-query', value: canonicalQuery }],
    'transfer-encoding': [{ key: 'Transfer-Encoding', value: 'chunked' }],
    via: [{ key: 'Via', value: '1.1 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)' }],
  };
}
