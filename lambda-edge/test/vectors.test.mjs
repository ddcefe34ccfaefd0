// The shared transform-URL vectors (testdata/url-vectors.json), through the parser and
// through the handler with real CloudFront event shapes for both origins of the group.
// Every case and every request of the file is one test.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { CANONICAL_QUERY_HEADER, handler } from '../src/index.mjs';
import { UrlError } from '../src/errors.mjs';
import { parseQuery } from '../src/query.mjs';
import {
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
/** @typedef {{ spec: string, cases: Case[], requests: RequestVector[] }} Vectors */

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
 */
async function originRequest(uri, query, origin) {
  const req = request(uri, query, origin === 's3' ? s3Origin() : transformerOrigin());
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
  assert.equal(toS3.uri, `/v/${path.slice('/i/'.length)}`);
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

test('the vector file is transform-url-v1 and not trivial', () => {
  assert.equal(vectors.spec, 'transform-url-v1');
  assert.ok(vectors.cases.length + vectors.requests.length >= 80);
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
      assert.deepEqual(parseQuery(want), { canonicalQuery: want, isCanonical: true });

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
