/**
 * The shared vectors (testdata/url-vectors.json, written by an independent reference
 * implementation): every key, case, request and accept entry must come out exactly as the
 * file says, as in the Rust tests. Each entry is one test.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import {
  UrlError,
  acceptClass,
  cacheKey,
  canonicalQuery,
  formDecode,
  isParamName,
  keyToHex,
  parseQuery,
  parseTransformRequest,
  requestAcceptClass,
  requestOutcome,
  signQuery,
  transformVariant,
  urlKey,
  variantKey,
  variantPath,
  type ParamValues,
} from "@imgedge/transform-url";

interface KeyVector {
  image_id: string;
  epoch: number;
  url_key: string;
}

interface CaseVector {
  name: string;
  rule: string;
  image_id: string;
  query: string;
  expect: "canonical" | "redirect" | "error";
  canonical_query?: string;
  sig?: string;
  path?: string;
  error?: string;
}

interface RequestVector {
  name: string;
  rule: string;
  path: string;
  query: string;
  status: 200 | 301 | 400 | 403;
  error?: string;
  location?: string;
}

interface AcceptVector {
  name: string;
  rule: string;
  path: string;
  query: string;
  accept: string | null;
  client_accept_class: string | null;
  accept_class: "avif" | "webp" | "basic" | null;
  cache_key: string;
  s3_key: string;
}

interface Vectors {
  spec: string;
  url_secret: string;
  keys: KeyVector[];
  cases: CaseVector[];
  requests: RequestVector[];
  accept: AcceptVector[];
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/url-vectors.json", import.meta.url), "utf8"),
) as Vectors;
const secret = vectors.url_secret;
/** Cases are signed at epoch 0. */
const keys = new Map(vectors.keys.filter((k) => k.epoch === 0).map((k) => [k.image_id, k.url_key]));

/** The query's known parameters, decoded, as a builder's form would hold them. */
function decodedValues(query: string): ParamValues {
  const values: ParamValues = {};
  for (const piece of query.split("&")) {
    const eq = piece.indexOf("=");
    const name = formDecode(eq < 0 ? piece : piece.slice(0, eq));
    if (name !== null && isParamName(name)) {
      values[name] = formDecode(eq < 0 ? "" : piece.slice(eq + 1)) ?? "%invalid";
    }
  }
  return values;
}

function errorCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    if (error instanceof UrlError) return error.code;
    throw error;
  }
  return undefined;
}

test("the vector file is transform-url-v1.1, with every section", () => {
  assert.equal(vectors.spec, "transform-url-v1.1");
  assert.ok(vectors.keys.some((k) => k.epoch === 1) && vectors.keys.some((k) => k.epoch === 2));
  assert.ok(vectors.cases.length + vectors.requests.length >= 80);
  assert.ok(Array.isArray(vectors.accept) && vectors.accept.length > 0);
});

describe(`keys (${vectors.keys.length})`, () => {
  for (const k of vectors.keys) {
    test(`url_key of ${k.image_id} at epoch ${k.epoch}`, () => {
      assert.equal(keyToHex(urlKey(secret, k.image_id, k.epoch)), k.url_key);
    });
  }
});

describe(`cases (${vectors.cases.length})`, () => {
  for (const c of vectors.cases) {
    test(`${c.name}: ${c.rule}`, () => {
      const key = keys.get(c.image_id);
      assert.ok(key !== undefined, `image_id ${c.image_id} is in keys at epoch 0`);
      const image = { id: c.image_id, url_key: key };

      if (c.expect === "error") {
        assert.equal(errorCode(() => parseQuery(c.query)), c.error);
        // A builder given the same decoded values refuses them with the same code, unless
        // the error was in the encoding itself (which a builder's values cannot have).
        const values = decodedValues(c.query);
        const duplicate = c.error === "duplicate_param";
        const unusable = Object.values(values).some((v) => v === "%invalid" || v === "");
        if (!duplicate && !unusable) {
          const order = Object.keys(values);
          // The builder checks in canonical order, the parser in query order: only a
          // single-parameter query must fail the same way.
          if (order.length === 1) assert.equal(errorCode(() => canonicalQuery(values)), c.error);
        }
        return;
      }
      assert.match(c.expect, /^(canonical|redirect)$/);
      const { canonical_query: want, sig, path } = c;
      assert.ok(want !== undefined && sig !== undefined && path !== undefined);
      const parsed = parseQuery(c.query);
      assert.equal(parsed.canonicalQuery, want);
      assert.equal(parsed.isCanonical, c.expect === "canonical");
      assert.equal(signQuery(key, want), sig);
      assert.equal(variantPath(c.image_id, sig, want), path);

      // The canonical query parses as canonical, to itself and to the same spec.
      const again = parseQuery(want);
      assert.equal(again.isCanonical, true);
      assert.equal(again.canonicalQuery, want);
      assert.deepEqual(again.spec, parsed.spec);
      // The typed spec builds the same query back.
      assert.equal(canonicalQuery(parsed.spec), want);

      // The builder (decoded values, as a form holds them) gives the same URL.
      assert.equal(canonicalQuery(decodedValues(c.query)), want);
      assert.equal(transformVariant(image, decodedValues(c.query)).path, path);

      // As a whole request with the canonical sig: served, or redirected to the canonical path.
      const outcome = requestOutcome(secret, `/i/${c.image_id}/${sig}`, c.query);
      assert.deepEqual(outcome, c.expect === "canonical" ? { status: 200 } : { status: 301, location: path });
    });
  }
});

describe(`requests (${vectors.requests.length})`, () => {
  for (const r of vectors.requests) {
    test(`${r.name}: ${r.rule}`, () => {
      const outcome = requestOutcome(secret, r.path, r.query);
      assert.equal(outcome.status, r.status);
      assert.equal(outcome.status === 400 ? outcome.error.code : undefined, r.error);
      assert.equal(outcome.status === 301 ? outcome.location : undefined, r.location);
    });
  }
});

describe(`accept (${vectors.accept?.length ?? 0})`, () => {
  for (const a of vectors.accept ?? []) {
    test(`${a.name}: ${a.rule}`, () => {
      // A canonical, correctly signed request.
      assert.deepEqual(requestOutcome(secret, a.path, a.query), { status: 200 });
      const request = parseTransformRequest(a.path, a.query);
      // The class comes from Accept alone: the client's own X-Imgedge-Accept is no input.
      const cls = requestAcceptClass(request, a.accept);
      assert.equal(cls, a.accept_class);
      if (a.accept_class !== null) assert.equal(acceptClass(a.accept), a.accept_class);
      assert.equal(cacheKey(request, cls), a.cache_key);
      assert.equal(variantKey(request, cls), a.s3_key);
      if (a.accept_class === null) {
        // No class for a URL without format=auto, whatever a caller passes.
        assert.equal(cacheKey(request, "avif"), a.cache_key);
        assert.equal(variantKey(request, "webp"), a.s3_key);
      }
    });
  }
});
