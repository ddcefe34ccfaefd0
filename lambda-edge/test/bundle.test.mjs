// The bundle as deployed (`npm run bundle`, bundle.mjs): one self-contained file that
// imports nothing, exports the handler, and answers every request of the vector file
// exactly as the sources do.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { bundle } from '../bundle.mjs';
import { handler } from '../src/index.mjs';
import {
  acceptHeaders,
  originRequestEvent,
  request,
  s3Origin,
  transformerOrigin,
} from './events.mjs';

/** @typedef {{ path: string, query: string }} RequestVector */
/** @typedef {{ path: string, query: string, accept_class: string | null }} AcceptVector */
/** @type {{ requests: RequestVector[], accept: AcceptVector[] }} */
const vectors = JSON.parse(
  readFileSync(new URL('../../testdata/url-vectors.json', import.meta.url), 'utf8'),
);

const dir = mkdtempSync(join(tmpdir(), 'imgedge-lambda-edge-'));
const file = join(dir, 'index.mjs');
/** @type {typeof handler} */
let bundled;

before(async () => {
  await bundle(file);
  ({ handler: bundled } = await import(pathToFileURL(file).href));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('the bundle imports nothing', () => {
  const code = readFileSync(file, 'utf8');
  assert.doesNotMatch(code, /^\s*import\s/m);
  assert.doesNotMatch(code, /\bimport\s*\(|\brequire\s*\(/);
  assert.match(code, /export\s*\{[^}]*\bhandler\b/);
});

test('the bundle answers every vector request as the sources do', async () => {
  const inputs = [
    ...vectors.requests.map((r) => ({ path: r.path, query: r.query, headers: {} })),
    ...vectors.accept.map((a) => ({
      path: a.path,
      query: a.query,
      headers: acceptHeaders({ acceptClass: a.accept_class }),
    })),
  ];
  for (const { path, query, headers } of inputs) {
    for (const origin of [s3Origin, transformerOrigin]) {
      const event = () => originRequestEvent(request(path, query, origin(), headers));
      assert.deepEqual(await bundled(event()), await handler(event()), `${path}?${query}`);
    }
  }
});
