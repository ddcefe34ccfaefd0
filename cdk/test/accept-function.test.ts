// The /i/* viewer-request CloudFront Function, as deployed (the bundled code, not its
// TypeScript source), run against every `accept` vector of testdata/url-vectors.json in
// CloudFront Functions' event shape: lowercase header names, `{value}` fields, `multiValue`
// for repeated names, the query string as CloudFront passes it (not decoded).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  ACCEPT_RULE_SOURCE,
  acceptFunctionCode,
  buildAcceptFunctionCode,
  bundleCloudFrontFunction,
  checkCloudFrontFunctionCode,
  CLOUDFRONT_FUNCTION_MAX_BYTES,
} from '../lib/accept-function.js';
import type { Fields, ViewerRequest, ViewerRequestEvent } from '../lib/functions/image-accept.js';

interface AcceptVector {
  name: string;
  rule: string;
  path: string;
  query: string;
  accept: string | null;
  client_accept_class: string | null;
  accept_class: string | null;
  cache_key: string;
  s3_key: string;
}

const vectors = JSON.parse(readFileSync(new URL('../../testdata/url-vectors.json', import.meta.url), 'utf8')) as {
  spec: string;
  accept?: AcceptVector[];
};
const HEADER = 'x-imgedge-accept';
const cdkDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The deployed code's handler, in strict mode as CloudFront Functions run it. */
type Handler = (event: ViewerRequestEvent) => ViewerRequest;
function load(code: string): Handler {
  return new Function(`"use strict";\n${code}\nreturn handler;`)() as Handler;
}
const handler = load(acceptFunctionCode());

/** A field of CloudFront's shape: one value, or `multiValue` when a name repeats. */
function field(values: string[]): Fields[string] {
  return values.length === 1
    ? { value: values[0]! }
    : { value: values[0]!, multiValue: values.map((value) => ({ value })) };
}

/** A raw query as CloudFront Functions represent it: names and values as sent, not decoded. */
function querystringOf(query: string): Fields {
  const byName = new Map<string, string[]>();
  for (const pair of query.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    byName.set(name, [...(byName.get(name) ?? []), value]);
  }
  return Object.fromEntries([...byName].map(([name, values]) => [name, field(values)]));
}

/** A viewer-request event for `uri?query` with these headers (lowercase names). */
function eventFor(uri: string, query: string, headers: Record<string, string[]>): ViewerRequestEvent {
  return {
    version: '1.0',
    context: { distributionDomainName: 'd111111abcdef8.cloudfront.net', eventType: 'viewer-request' },
    viewer: { ip: '198.51.100.11' },
    request: {
      method: 'GET',
      uri,
      querystring: querystringOf(query),
      headers: Object.fromEntries(Object.entries(headers).map(([name, values]) => [name, field(values)])),
      cookies: {},
    },
  };
}

/** The event of a vector: its Accept (if any) and the client's own class header (if any). */
function vectorEvent(v: AcceptVector): ViewerRequestEvent {
  const headers: Record<string, string[]> = { host: ['images.example.com'] };
  if (v.accept !== null) headers.accept = [v.accept];
  if (v.client_accept_class !== null) headers[HEADER] = [v.client_accept_class];
  return eventFor(v.path, v.query, headers);
}

/** The function's answer, as plain JSON (what CloudFront reads back). */
function run(event: ViewerRequestEvent, fn: Handler = handler): ViewerRequest {
  return JSON.parse(JSON.stringify(fn(structuredClone(event)))) as ViewerRequest;
}

/** Only the class header changes: everything else of the request is as it came. */
function assertOnlyClassChanged(before: ViewerRequestEvent, after: ViewerRequest): void {
  const { [HEADER]: _set, ...headersAfter } = after.headers;
  const { [HEADER]: _sent, ...headersBefore } = before.request.headers;
  assert.deepEqual({ ...after, headers: headersAfter }, { ...before.request, headers: headersBefore });
}

describe('the accept vectors (testdata/url-vectors.json)', () => {
  test('the vector file is transform URLs 1.1 and has accept vectors', () => {
    assert.equal(vectors.spec, 'transform-url-v1.1');
    assert.ok((vectors.accept ?? []).length > 0, 'an accept list');
  });

  for (const v of vectors.accept ?? []) {
    test(`${v.name}: ${v.rule}`, () => {
      const event = vectorEvent(v);
      const request = run(event);
      if (v.accept_class === null) {
        assert.equal(request.headers[HEADER], undefined, 'no class for a URL without format=auto');
      } else {
        assert.deepEqual(request.headers[HEADER], { value: v.accept_class });
      }
      assertOnlyClassChanged(event, request);
      // The cache key CloudFront makes of it (path, the allow-listed query, the class header)
      // is the vector's.
      const cls = request.headers[HEADER]?.value;
      const key = `${request.uri}${v.query ? `?${v.query}` : ''}${cls ? `|${cls}` : ''}`;
      assert.equal(key, v.cache_key);
    });
  }
});

describe('the function beyond the vectors', () => {
  const uri = '/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/2Bu2RcPEV8qZT2zRKPbrpA';
  const classOf = (query: string, headers: Record<string, string[]> = {}) =>
    run(eventFor(uri, query, headers)).headers[HEADER];

  test("a client's own x-imgedge-accept is removed, even sent twice, whatever the URL", () => {
    const sent = { [HEADER]: ['avif', 'webp'], accept: ['image/avif'] };
    assert.equal(classOf('width=800', sent), undefined);
    assert.equal(classOf('', sent), undefined);
    assert.equal(classOf('format=webp', sent), undefined);
    assert.deepEqual(classOf('format=auto', { ...sent, accept: ['image/jpeg'] }), { value: 'basic' });
  });

  test('repeated Accept lines are one list', () => {
    const accept = ['text/html', 'image/webp;q=0.9'];
    assert.deepEqual(classOf('format=auto', { accept }), { value: 'webp' });
    assert.deepEqual(classOf('format=auto', { accept: ['image/webp', 'image/avif;q=0'] }), { value: 'webp' });
  });

  test('format=auto is recognised once form-decoded, in any position, and only for format', () => {
    const accept = ['image/avif'];
    for (const query of ['format=%61uto', '%66ormat=auto', 'format=au%74o', 'width=1&format=auto&quality=50']) {
      assert.deepEqual(classOf(query, { accept }), { value: 'avif' }, query);
    }
    // Repeated (the origin request answers 400 duplicate_param): still keyed by class.
    assert.deepEqual(classOf('format=webp&format=auto', { accept }), { value: 'avif' });
    for (const query of ['format=AUTO', 'format=auto2', 'format=', 'formats=auto', 'watermarkText=auto', 'format=%zz', '%zz=auto', 'auto']) {
      assert.equal(classOf(query, { accept }), undefined, query);
    }
  });

  test('no Accept header, or an empty one, is basic', () => {
    assert.deepEqual(classOf('format=auto'), { value: 'basic' });
    assert.deepEqual(classOf('format=auto', { accept: [''] }), { value: 'basic' });
  });
});

describe('the bundle', () => {
  const code = acceptFunctionCode();

  test('is a script of at most 10 KB with a top-level handler and no import or export', () => {
    checkCloudFrontFunctionCode(code);
    assert.ok(Buffer.byteLength(code) <= CLOUDFRONT_FUNCTION_MAX_BYTES);
    assert.doesNotMatch(code, /\brequire\(/);
  });

  test("embeds the rule's one implementation (packages/transform-url/src/accept.ts), no copy", () => {
    const rule = path.relative(cdkDir, ACCEPT_RULE_SOURCE);
    assert.ok(code.includes(`// ${rule.split(path.sep).join('/')}\n`), `bundled from ${rule}`);
    assert.equal(code.match(/function acceptClass\(/g)?.length, 1);
  });

  test('is the same from any directory (no function update at deploy for a change of directory)', () => {
    const cwd = process.cwd();
    try {
      process.chdir(tmpdir());
      assert.equal(buildAcceptFunctionCode(), code);
    } finally {
      process.chdir(cwd);
    }
  });

  test('refuses syntax that runtime 2.0 does not document (here: for-of)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-function-'));
    try {
      const entry = path.join(dir, 'entry.ts');
      writeFileSync(entry, 'export function handler(event: { request: { n: number[] } }) {\n  for (const n of event.request.n) void n;\n  return event.request;\n}\n');
      assert.throws(() => bundleCloudFrontFunction(entry), /for-of/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // njs, nginx's JavaScript engine, knows about the syntax and built-ins the runtime 2.0
  // documents, and no more (no for-of, destructuring, spread, `??`): a stricter engine than
  // Node for the same code. Debian packages it (`apt-get install njs`); without it, skipped.
  const njs = (() => {
    try {
      execFileSync('njs', ['-v'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  test('runs in njs on every accept vector with the same classes', { skip: njs ? false : 'njs is not installed' }, () => {
    const cases = (vectors.accept ?? []).map((v) => ({ event: vectorEvent(v), expected: v.accept_class }));
    const dir = mkdtempSync(path.join(tmpdir(), 'cf-function-njs-'));
    try {
      const script = path.join(dir, 'run.js');
      writeFileSync(
        script,
        `${code}\nvar cases = ${JSON.stringify(cases.map((c) => c.event))};\n` +
          `var out = [];\nfor (var i = 0; i < cases.length; i++) {\n` +
          `  var h = handler(cases[i]).headers['${HEADER}'];\n  out.push(h === undefined ? null : h.value);\n}\n` +
          'console.log(JSON.stringify(out));\n',
      );
      const out = JSON.parse(execFileSync('njs', [script], { encoding: 'utf8' })) as (string | null)[];
      assert.deepEqual(out, cases.map((c) => c.expected));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
