// The handler's behaviour beyond the vectors: dispatch on the trigger, the failover's
// second invocation, the origin-response check, and the cases the deploy guide names.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PARAM_NAMES, signQuery } from '@imgedge/transform-url';

import { ACCEPT_CLASS_HEADER, CANONICAL_QUERY_HEADER, handler, onOriginRequest } from '../src/index.mjs';
import { PARAMS } from '../src/params.mjs';
import {
  acceptHeaders,
  originRequestEvent,
  originResponseEvent,
  request,
  s3Origin,
  storedVariantHeaders,
  transformerOrigin,
} from './events.mjs';

/** @typedef {import('aws-lambda').CloudFrontRequest} CloudFrontRequest */
/** @typedef {import('aws-lambda').CloudFrontResultResponse} CloudFrontResultResponse */

// The vector file's signed `width=800` of its first image.
const PATH = '/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/XciLsd14s4fpM_4JhZ3Pqg';

/** @param {unknown} result */
function asRequest(result) {
  assert.ok(result !== null && typeof result === 'object' && !('status' in result));
  return /** @type {CloudFrontRequest} */ (result);
}

/** @param {unknown} result */
function asResponse(result) {
  assert.ok(result !== null && typeof result === 'object' && 'status' in result);
  return /** @type {CloudFrontResultResponse} */ (result);
}

describe('origin-request', () => {
  test('a failover that hands back the S3 rewrite still reaches the transformer canonically', () => {
    const toS3 = asRequest(onOriginRequest(request(PATH, 'utm_source=x&width=800', s3Origin())));
    // The same request object, now bound for the secondary origin.
    toS3.origin = transformerOrigin();
    const toTransformer = asRequest(onOriginRequest(toS3));
    assert.equal(toTransformer.uri, PATH);
    assert.equal(toTransformer.querystring, 'width=800');
    assert.equal(toTransformer.headers[CANONICAL_QUERY_HEADER], undefined);
  });

  test('the rewrite for S3 is idempotent', () => {
    const once = asRequest(onOriginRequest(request(PATH, 'width=800', s3Origin())));
    const twice = asRequest(onOriginRequest(structuredClone(once)));
    assert.deepEqual(twice, once);
  });

  test('viewer and CloudFront headers are kept', () => {
    const out = asRequest(onOriginRequest(request(PATH, 'width=800', s3Origin())));
    assert.equal(out.headers['x-forwarded-for']?.[0]?.value, '203.0.113.178');
    assert.equal(out.method, 'GET');
  });

  test('a percent-encoded name is decoded, as the spec says: 301 to the plain name', async () => {
    // In production CloudFront's allow-list matches raw names, so `%77idth` never reaches
    // the function (docs/deploy.md); given one, the function follows the spec.
    const response = asResponse(
      await handler(originRequestEvent(request(PATH, '%77idth=800', s3Origin()))),
    );
    assert.equal(response.status, '301');
    assert.equal(response.headers?.location?.[0]?.value, `${PATH}?width=800`);
  });

  test('a path outside /i/ is a bad image id, not an exception', async () => {
    const response = asResponse(
      await handler(originRequestEvent(request('/favicon.ico', '', s3Origin()))),
    );
    assert.equal(response.status, '400');
    assert.equal(JSON.parse(response.body ?? '').error, 'bad_image_id');
  });
});

describe('origin-response', () => {
  const toS3 = () => asRequest(onOriginRequest(request(PATH, 'width=800', s3Origin())));

  test('a variant that renders the requested query is served as stored', async () => {
    const event = originResponseEvent(toS3(), '200', storedVariantHeaders('width=800'));
    assert.deepEqual(await handler(event), event.Records[0]?.cf.response);
  });

  test('a variant of another query is refused, keeping the read-only headers', async () => {
    const stored = storedVariantHeaders('width=801');
    const response = asResponse(await handler(originResponseEvent(toS3(), '200', stored)));
    assert.equal(response.status, '403');
    assert.equal(JSON.parse(response.body ?? '').error, 'bad_signature');
    assert.deepEqual(response.headers?.via, stored.via);
    assert.deepEqual(response.headers?.['transfer-encoding'], stored['transfer-encoding']);
    assert.equal(response.headers?.etag, undefined, "the variant's ETag goes with its body");
    assert.equal(response.headers?.['x-amz-meta-canonical-query'], undefined);
  });

  test('an object without the metadata counts as the original (empty query)', async () => {
    const headers = storedVariantHeaders('');
    delete headers['x-amz-meta-canonical-query'];
    const toOriginal = asRequest(onOriginRequest(request(PATH, '', s3Origin())));
    const event = originResponseEvent(toOriginal, '200', headers);
    assert.deepEqual(await handler(event), event.Records[0]?.cf.response);
  });

  test("the transformer's answers are left alone", async () => {
    const toTransformer = asRequest(
      onOriginRequest(request(PATH, 'width=800', transformerOrigin())),
    );
    const event = originResponseEvent(toTransformer, '200', storedVariantHeaders('other'));
    assert.deepEqual(await handler(event), event.Records[0]?.cf.response);
  });

  test('S3 errors go on to the failover untouched', async () => {
    for (const status of ['403', '404', '500']) {
      const event = originResponseEvent(toS3(), status, {});
      assert.deepEqual(await handler(event), event.Records[0]?.cf.response);
    }
  });
});

test('other triggers are a configuration error', async () => {
  const record = originRequestEvent(request(PATH, '', s3Origin())).Records[0];
  assert.ok(record);
  const viewerRequest = {
    Records: [{ cf: { ...record.cf, config: { ...record.cf.config, eventType: /** @type {const} */ ('viewer-request') } } }],
  };
  await assert.rejects(handler(viewerRequest), /unexpected event type viewer-request/);
});

describe('encoding', () => {
  test('a leading byte order mark is text, kept as Rust keeps it', () => {
    // TextDecoder strips a leading U+FEFF unless told not to; U+FEFF is a format character
    // (Cf), which watermarks may hold.
    const path = `${PATH.slice(0, PATH.lastIndexOf('/'))}/AAAAAAAAAAAAAAAAAAAAAA`;
    const out = asRequest(onOriginRequest(request(path, 'watermarkText=%EF%BB%BFa', transformerOrigin())));
    assert.equal(out.querystring, 'watermarkText=%EF%BB%BFa');
  });

  test("the cache policy's allow-list is the package's parameter list", () => {
    assert.deepEqual(PARAMS, PARAM_NAMES);
    assert.equal(PARAMS.length, 17);
    assert.deepEqual([...PARAMS].sort(), [...new Set(PARAMS)].sort());
  });
});

describe('format=auto', () => {
  // The vector file's first image, its url_key, and a signed format=auto URL of it.
  const key = '65bd850eab1c7001c332621820c452ed614d3fd47776f6d37ec13dde1aa9b265';
  const query = 'width=800&format=auto';
  const autoPath = `/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/${signQuery(key, query)}`;
  const variant = autoPath.replace(/^\/i\//, '/v/');

  test('the S3 key carries the class the viewer function set', () => {
    for (const cls of ['avif', 'webp', 'basic']) {
      const out = asRequest(onOriginRequest(request(autoPath, query, s3Origin(), acceptHeaders({ acceptClass: cls }))));
      assert.equal(out.uri, `${variant}.${cls}`);
      assert.equal(out.headers[ACCEPT_CLASS_HEADER]?.[0]?.value, cls);
    }
  });

  test('a header that is not a class is recomputed from Accept, else basic', () => {
    const headers = { ...acceptHeaders({ accept: 'image/webp,*/*' }), 'x-imgedge-accept': [{ key: 'X-Imgedge-Accept', value: 'AVIF' }] };
    const fromAccept = asRequest(onOriginRequest(request(autoPath, query, s3Origin(), headers)));
    assert.equal(fromAccept.uri, `${variant}.webp`);
    assert.equal(fromAccept.headers[ACCEPT_CLASS_HEADER]?.[0]?.value, 'webp');
    const bare = asRequest(onOriginRequest(request(autoPath, query, transformerOrigin())));
    assert.equal(bare.headers[ACCEPT_CLASS_HEADER]?.[0]?.value, 'basic');
    const split = {
      accept: [
        { key: 'Accept', value: 'image/png' },
        { key: 'Accept', value: 'image/avif' },
      ],
    };
    const twoLines = asRequest(onOriginRequest(request(autoPath, query, s3Origin(), split)));
    assert.equal(twoLines.uri, `${variant}.avif`, 'every Accept line counts');
  });

  test('a URL without format=auto has no class, whatever the headers', () => {
    const headers = acceptHeaders({ acceptClass: 'avif', accept: 'image/avif' });
    const out = asRequest(onOriginRequest(request(PATH, 'width=800', s3Origin(), headers)));
    assert.equal(out.uri, PATH.replace(/^\/i\//, '/v/'));
    assert.equal(out.headers[ACCEPT_CLASS_HEADER], undefined);
  });

  test('the rewrite for S3 is idempotent with a class', () => {
    const once = asRequest(onOriginRequest(request(autoPath, query, s3Origin(), acceptHeaders({ acceptClass: 'webp' }))));
    const twice = asRequest(onOriginRequest(structuredClone(once)));
    assert.deepEqual(twice, once);
  });

  test('Vary: Accept joins the Vary a stored variant may have, once', async () => {
    const toS3 = asRequest(onOriginRequest(request(autoPath, query, s3Origin(), acceptHeaders({ acceptClass: 'avif' }))));
    const stored = { ...storedVariantHeaders(query), vary: [{ key: 'Vary', value: 'Origin' }] };
    const response = asResponse(await handler(originResponseEvent(toS3, '200', stored)));
    assert.deepEqual(response.headers?.vary, [{ key: 'Vary', value: 'Origin, Accept' }]);
    const already = { ...storedVariantHeaders(query), vary: [{ key: 'Vary', value: 'accept' }] };
    const same = asResponse(await handler(originResponseEvent(toS3, '200', already)));
    assert.deepEqual(same.headers?.vary, [{ key: 'Vary', value: 'accept' }]);
  });

  test('a stored variant of another query is still refused', async () => {
    const toS3 = asRequest(onOriginRequest(request(autoPath, query, s3Origin(), acceptHeaders({ acceptClass: 'avif' }))));
    const response = asResponse(await handler(originResponseEvent(toS3, '200', storedVariantHeaders('width=800'))));
    assert.equal(response.status, '403');
  });
});
