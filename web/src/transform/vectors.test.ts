/**
 * The shared transform-URL vectors (testdata/url-vectors.json, written by an independent
 * reference implementation), through the web client's import of the shared package (as
 * Vite bundles it): every key, every case and every whole request must come out exactly as
 * the file says, as in the package's own tests and the Rust tests.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  UrlError,
  canonicalQueryOf,
  formDecode,
  isParamName,
  keyFromHex,
  keyToHex,
  parseQuery,
  cacheKey,
  parseTransformRequest,
  requestAcceptClass,
  requestOutcome,
  signQuery,
  transformVariant,
  urlKey,
  variantKey,
  variantPath,
  type ParamName,
  type ParamValues,
} from "./index";

interface Vectors {
  spec: string;
  url_secret: string;
  keys: { image_id: string; epoch: number; url_key: string }[];
  cases: Case[];
  requests: Request[];
  accept: Accept[];
}

interface Accept {
  name: string;
  rule: string;
  path: string;
  query: string;
  accept: string | null;
  accept_class: string | null;
  cache_key: string;
  s3_key: string;
}

interface Case {
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

interface Request {
  name: string;
  rule: string;
  path: string;
  query: string;
  status: number;
  error?: string;
  location?: string;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../../testdata/url-vectors.json", import.meta.url), "utf8"),
) as Vectors;
const secret = keyFromHex(vectors.url_secret);
// Cases are signed at epoch 0.
const keys = new Map(vectors.keys.filter((k) => k.epoch === 0).map((k) => [k.image_id, k.url_key]));

/** The query's known parameters, decoded, as the builder's form would hold them. */
function decodedValues(query: string): ParamValues {
  const values: ParamValues = {};
  for (const piece of query.split("&")) {
    const eq = piece.indexOf("=");
    const name = formDecode(eq === -1 ? piece : piece.slice(0, eq));
    if (name !== null && isParamName(name)) {
      values[name as ParamName] = formDecode(eq === -1 ? "" : piece.slice(eq + 1)) ?? undefined;
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

describe("url-vectors.json", () => {
  it("is the v1.1 file, with enough vectors", () => {
    expect(vectors.spec).toBe("transform-url-v1.1");
    expect(vectors.keys.length).toBeGreaterThan(0);
    expect(vectors.cases.length + vectors.requests.length).toBeGreaterThanOrEqual(80);
  });
});

describe(`keys (${vectors.keys.length})`, () => {
  it.each(vectors.keys)("url_key of $image_id at epoch $epoch", ({ image_id, epoch, url_key }) => {
    expect(keyToHex(urlKey(secret, image_id, epoch))).toBe(url_key);
  });
});

describe(`cases (${vectors.cases.length})`, () => {
  it.each(vectors.cases)("$name: $rule", (c) => {
    const urlKey = keys.get(c.image_id);
    expect(urlKey, `image_id ${c.image_id} is in keys`).toBeDefined();
    const image = { id: c.image_id, url_key: urlKey! };

    if (c.expect === "error") {
      expect(errorCode(() => parseQuery(c.query))).toBe(c.error);
      return;
    }
    expect(c.expect).toMatch(/^(canonical|redirect)$/);
    const parsed = parseQuery(c.query);
    expect(parsed.canonicalQuery).toBe(c.canonical_query);
    expect(parsed.isCanonical).toBe(c.expect === "canonical");
    expect(signQuery(keyFromHex(image.url_key), parsed.canonicalQuery)).toBe(c.sig);
    expect(variantPath(c.image_id, c.sig!, parsed.canonicalQuery)).toBe(c.path);

    // The canonical query re-parses as canonical, to itself.
    const again = parseQuery(c.canonical_query!);
    expect(again.isCanonical).toBe(true);
    expect(again.canonicalQuery).toBe(c.canonical_query);

    // The builder's path (decoded values, as a form holds them) gives the same URL.
    expect(canonicalQueryOf(decodedValues(c.query))).toBe(c.canonical_query);
    expect(transformVariant(image, decodedValues(c.query)).path).toBe(c.path);

    // As a whole request with the canonical sig: served, or redirected to the canonical path.
    const outcome = requestOutcome(secret, `/i/${c.image_id}/${c.sig}`, c.query);
    expect(outcome).toEqual(c.expect === "canonical" ? { status: 200 } : { status: 301, location: c.path });
  });
});

describe(`requests (${vectors.requests.length})`, () => {
  it.each(vectors.requests)("$name: $rule", (r) => {
    const outcome = requestOutcome(secret, r.path, r.query);
    expect(outcome.status).toBe(r.status);
    expect(outcome.status === 400 ? outcome.error.code : undefined).toBe(r.error);
    expect(outcome.status === 301 ? outcome.location : undefined).toBe(r.location);
  });
});

describe(`accept (${vectors.accept.length})`, () => {
  it.each(vectors.accept)("$name: $rule", (a) => {
    const request = parseTransformRequest(a.path, a.query);
    const cls = requestAcceptClass(request, a.accept);
    expect(cls).toBe(a.accept_class);
    expect(cacheKey(request, cls)).toBe(a.cache_key);
    expect(variantKey(request, cls)).toBe(a.s3_key);
  });
});
