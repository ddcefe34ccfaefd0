// The shared transform-URL vectors (testdata/url-vectors.json), through the shared parser
// and through the handler with real CloudFront event shapes for both origins of the group.
// Every case, request and accept entry of the file is one test.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { UrlError, isAutoFormat, parseQuery } from '@imgedge/transform-url';

import { ACCEPT_CLASS_HEADER, CANONICAL_QUERY_HEADER, handler } from '../src/index.mjs';
import {
  acceptHeaders,
  originRequestEvent,
  originResponseEvent,
  request,
  s3Origin,
  storedVariantHeaders,
  transformerOrigin,
} from './events.mjs';

/**
 * @typedef {object} Case
 * @property {string} name
 * @property {string} image_id
 * @property {string} query
 * @property {'canonical' | 'redirect' | 'error'} expect
 * @property {string} [canonical_query]
 * @property {string} [sig]
 * @property {string} [path]
 * @property {string} [error]
 */
/**
 * @typedef {object} RequestVector
 * @property {string} name
 * @property {string} path
 * @property {string} query
 * @property {200 | 301 | 400 | 403} status
 * @property {string} [error]
 * @property {string} [location]
 */
/**
 * @typedef {object} AcceptVector
 * @property {string} name
 * @property {string} path a canonical, correctly signed request's path
 * @property {string} query its canonical query
 * @property {string | null} accept the viewer's Accept header (null: none)
 * @property {string | null} client_accept_class the viewer's own X-Imgedge-Accept (null: none)
 * @property {'avif' | 'webp' | 'basic' | null} accept_class null for a URL without format=auto
 * @property {string} cache_key
 * @property {string} s3_key
 */
/** @typedef {{ spec: string, cases: Case[], requests: RequestVector[], accept: AcceptVector[] }} Vectors */

/** @type {Vectors} */
const vectors = JSON.parse(
  readFileSync(new URL('../../testdata/url-vectors.json', import.meta.url), 'utf8'),
);

/** Any well-formed sig: a query's errors do not depend on it. */
const SOME_SIG = 'AAAAAAAAAAAAAAAAAAAAAA';

/** @typedef {import('aws-lambda').CloudFrontRequest} CloudFrontRequest */
/** @typedef {import('aws-lambda').CloudFrontResultResponse} CloudFrontResultResponse */

/**
 * Runs the origin-request trigger.
 * @param {string} uri
 * @param {string} query
 * @param {'s3' | 'transformer'} origin
 * @param {import('aws-lambda').CloudFrontHeaders} [headers] more request headers
 */
async function originRequest(uri, query, origin, headers = {}) {
  const req = request(uri, query, origin === 's3' ? s3Origin() : transformerOrigin(), headers);
  return /** @type {CloudFrontRequest | CloudFrontResultResponse} */ (
    await handler(originRequestEvent(req))
  );
}

/**
 * The forwarded request, failing when the function answered instead.
 * @param {CloudFrontRequest | CloudFrontResultResponse} result
 * @returns {CloudFrontRequest}
 */
function forwarded(result) {
  assert.ok(!('status' in result), `expected a forwarded request, got ${JSON.stringify(result)}`);
  return /** @type {CloudFrontRequest} */ (result);
}

/**
 * The generated response, failing when the function forwarded the request instead.
 * @param {CloudFrontRequest | CloudFrontResultResponse} result
 * @returns {CloudFrontResultResponse}
 */
function generated(result) {
  assert.ok('status' in result, `expected a generated response, got ${JSON.stringify(result)}`);
  return /** @type {CloudFrontResultResponse} */ (result);
}

/**
 * @param {CloudFrontResultResponse} response
 * @param {string} name lowercase
 */
function header(response, name) {
  return response.headers?.[name]?.[0]?.value;
}

/**
 * Checks a generated 400 (or 403) in the spec's error format.
 * @param {CloudFrontResultResponse} response
 * @param {string} status
 * @param {string} code
 */
function assertJsonError(response, status, code) {
  assert.equal(response.status, status);
  assert.equal(header(response, 'content-type'), 'application/json');
  assert.equal(header(response, 'cache-control'), 'public, max-age=10');
  const body = JSON.parse(response.body ?? '');
  assert.equal(body.error, code);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
}

/**
 * Checks that a canonical request goes to both origins of the group correctly rewritten.
 * @param {string} path `/i/{image_id}/{sig}`
 * @param {string} query as the viewer sent it
 * @param {string} canonical its canonical query
 */
async function assertForwarded(path, query, canonical) {
  const toS3 = forwarded(await originRequest(path, query, 's3'));
  // Without an accept class or an Accept header, a format=auto variant is the basic one.
  const suffix = isAutoFormat(canonical) ? '.basic' : '';
  assert.equal(toS3.uri, `/v/${path.slice('/i/'.length)}${suffix}`);
  assert.equal(toS3.querystring, '');
  assert.equal(toS3.headers[CANONICAL_QUERY_HEADER]?.[0]?.value, canonical);
  assert.deepEqual(toS3.origin, s3Origin(), 'the S3 origin (and so OAC) is left alone');

  const toTransformer = forwarded(await originRequest(path, query, 'transformer'));
  assert.equal(toTransformer.uri, path);
  assert.equal(toTransformer.querystring, canonical);
  assert.equal(toTransformer.headers[CANONICAL_QUERY_HEADER], undefined);
  assert.deepEqual(toTransformer.origin, transformerOrigin());
  return toS3;
}

test('the vector file is transform-url-v1.1 and not trivial', () => {
  assert.equal(vectors.spec, 'transform-url-v1.1');
  assert.ok(vectors.cases.length + vectors.requests.length >= 80);
  assert.ok(vectors.accept.length > 0);
});

describe('vector cases', () => {
  for (const c of vectors.cases) {
    test(c.name, async () => {
      if (c.expect === 'error') {
        assert.throws(
          () => parseQuery(c.query),
          (e) => e instanceof UrlError && e.code === c.error,
        );
        const path = `/i/${c.image_id}/${SOME_SIG}`;
        assertJsonError(generated(await originRequest(path, c.query, 's3')), '400', c.error ?? '');
        return;
      }
      const { canonical_query: want, sig, path: wantPath } = c;
      assert.ok(want !== undefined && sig !== undefined && wantPath !== undefined);
      const parsed = parseQuery(c.query);
      assert.equal(parsed.canonicalQuery, want);
      assert.equal(parsed.isCanonical, c.expect === 'canonical');
      const again = parseQuery(want);
      assert.equal(again.canonicalQuery, want);
      assert.equal(again.isCanonical, true);

      const path = `/i/${c.image_id}/${sig}`;
      if (c.expect === 'canonical') {
        await assertForwarded(path, c.query, want);
        assert.equal(want === '' ? path : `${path}?${want}`, wantPath);
      } else {
        const response = generated(await originRequest(path, c.query, 's3'));
        assert.equal(response.status, '301');
        assert.equal(header(response, 'location'), wantPath);
        assert.equal(header(response, 'cache-control'), 'public, max-age=86400');
      }
    });
  }
});

describe('vector requests', () => {
  // What the transformer stored for each path a 200 vector serves: its canonical query.
  /** @type {Map<string, string>} */
  const stored = new Map(
    vectors.requests
      .filter((r) => r.status === 200)
      .map((r) => [r.path, parseQuery(r.query).canonicalQuery]),
  );

  for (const r of vectors.requests) {
    test(r.name, async () => {
      switch (r.status) {
        case 400:
          assertJsonError(generated(await originRequest(r.path, r.query, 's3')), '400', r.error ?? '');
          break;
        case 301: {
          const response = generated(await originRequest(r.path, r.query, 's3'));
          assert.equal(response.status, '301');
          assert.equal(header(response, 'location'), r.location);
          break;
        }
        case 200:
        case 403: {
          // The edge holds no secret: both are forwarded; the sig is the origins' business.
          const canonical = parseQuery(r.query).canonicalQuery;
          const toS3 = await assertForwarded(r.path, r.query, canonical);
          const variant = stored.get(r.path);
          if (variant === undefined) {
            // Nothing stored under this sig: S3's 403 goes on to the failover untouched.
            const miss = originResponseEvent(toS3, '403', {});
            assert.deepEqual(await handler(miss), miss.Records[0]?.cf.response);
            break;
          }
          const hit = originResponseEvent(toS3, '200', storedVariantHeaders(variant));
          const answer = /** @type {CloudFrontResultResponse} */ (await handler(hit));
          if (r.status === 200) {
            assert.deepEqual(answer, hit.Records[0]?.cf.response, 'the variant is served as stored');
          } else {
            // A sig copied onto another query: the stored variant is not this URL's.
            assertJsonError(answer, '403', 'bad_signature');
          }
          break;
        }
        default:
          assert.fail(`unknown status ${r.status}`);
      }
    });
  }
});

describe('vector accept', () => {
  for (const a of vectors.accept) {
    test(a.name, async () => {
      const cls = a.accept_class;
      /**
       * Checks the rewrite for both origins of the group, and the failover from one to the
       * other, given the request headers that reach the function.
       * @param {import('aws-lambda').CloudFrontHeaders} headers
       */
      const assertRewrites = async (headers) => {
        const toS3 = forwarded(await originRequest(a.path, a.query, 's3', headers));
        assert.equal(toS3.uri, `/${a.s3_key}`);
        assert.equal(toS3.querystring, '');
        assert.equal(toS3.headers[CANONICAL_QUERY_HEADER]?.[0]?.value, a.query);
        assert.equal(toS3.headers[ACCEPT_CLASS_HEADER]?.[0]?.value, cls ?? undefined);

        const toTransformer = forwarded(await originRequest(a.path, a.query, 'transformer', headers));
        assert.equal(toTransformer.uri, a.path);
        assert.equal(toTransformer.querystring, a.query);
        assert.equal(toTransformer.headers[ACCEPT_CLASS_HEADER]?.[0]?.value, cls ?? undefined);

        // S3 misses: the same request object goes on to the transformer, rewritten alike.
        toS3.origin = transformerOrigin();
        const failover = forwarded(
          /** @type {CloudFrontRequest | CloudFrontResultResponse} */ (await handler(originRequestEvent(toS3))),
        );
        assert.equal(failover.uri, a.path);
        assert.equal(failover.querystring, a.query);
        assert.equal(failover.headers[ACCEPT_CLASS_HEADER]?.[0]?.value, cls ?? undefined);
      };

      // On CloudFront: the viewer-request function set the class of a format=auto URL from
      // Accept (replacing the client's own); for any other URL a client's header that got
      // through changes nothing and goes no further.
      await assertRewrites(acceptHeaders({ acceptClass: cls ?? a.client_accept_class }));
      // Without the viewer function's header, the class comes from Accept when forwarded.
      await assertRewrites(acceptHeaders({ accept: a.accept }));

      // A hit in S3: served as stored, with Vary: Accept for format=auto.
      const toS3 = forwarded(await originRequest(a.path, a.query, 's3', acceptHeaders({ acceptClass: cls })));
      const hit = originResponseEvent(toS3, '200', storedVariantHeaders(a.query));
      const answer = /** @type {CloudFrontResultResponse} */ (await handler(hit));
      assert.equal(answer.status, '200');
      assert.equal(header(answer, 'vary'), cls === null ? undefined : 'Accept');
    });
  }
});
