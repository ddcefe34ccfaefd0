/**
 * The package's API beyond the shared vectors: the rules of spec 1.1 as its text states
 * them, the typed spec, the builder, keys and epochs, cache and S3 keys, and the package's
 * shape (exports, the accept module standing alone).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import * as api from "@imgedge/transform-url";
import {
  UrlError,
  base64url,
  cacheKey,
  canonicalQuery,
  decide,
  formDecode,
  isAutoFormat,
  isWellFormedSig,
  keyToHex,
  knownPairs,
  originalKey,
  parseQuery,
  parseTransformRequest,
  percentEncode,
  requestAcceptClass,
  requestOutcome,
  signQuery,
  transformPath,
  transformUrl,
  transformVariant,
  urlKey,
  variantKey,
  withFocus,
  type TransformOptions,
} from "@imgedge/transform-url";
import * as acceptModule from "@imgedge/transform-url/accept";

// The vector file's test secret and its first image, with its epoch-0 url_key.
const SECRET = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const image = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
  url_key: "65bd850eab1c7001c332621820c452ed614d3fd47776f6d37ec13dde1aa9b265",
};

/** `code:param` of the error a query gets, or the canonical query (`= ...`, `-> ...`). */
function outcome(query: string): string {
  try {
    const parsed = parseQuery(query);
    return `${parsed.isCanonical ? "=" : "->"} ${parsed.canonicalQuery}`;
  } catch (error) {
    if (error instanceof UrlError) return `${error.code}:${error.param ?? ""}`;
    throw error;
  }
}

function codeOf(options: TransformOptions): string | undefined {
  try {
    transformVariant(image, options);
  } catch (error) {
    if (error instanceof UrlError) return `${error.code}:${error.param ?? ""}`;
    throw error;
  }
  return undefined;
}

describe("spec 1.1, as its text says", () => {
  test("canonical order of every parameter", () => {
    const all =
      "watermarkText=hi&format=png&palette=1&quality=50&background=FF0000&sharpen=1&blur=2" +
      "&grayscale=1&mirror=1&flip=1&rotate=90&gravity=north&fit=cover&dpr=2&height=10&width=10&crop=0,0,5,5";
    assert.equal(
      outcome(all),
      "-> crop=0,0,5,5&width=10&height=10&dpr=2&gravity=north&rotate=90&flip=1&mirror=1&grayscale=1" +
        "&blur=2&sharpen=1&background=ff0000&quality=50&palette=1&format=png&watermarkText=hi",
    );
    assert.deepEqual(api.PARAM_NAMES, [
      "crop", "width", "height", "dpr", "fit", "gravity", "rotate", "flip", "mirror", "grayscale",
      "blur", "sharpen", "background", "quality", "palette", "format", "watermarkText",
    ]);
  });

  test("decimals round half-up on their digits, never through floating point", () => {
    assert.equal(outcome("width=10&dpr=1.05"), "-> width=10&dpr=1.1");
    assert.equal(outcome("sharpen=0.25"), "-> sharpen=0.3");
    assert.equal(outcome("width=10&dpr=4.04"), "-> width=10&dpr=4");
    assert.equal(outcome("width=10&height=10&gravity=1.0004,0"), "-> width=10&height=10&gravity=1,0");
    assert.equal(outcome("width=10&height=10&gravity=0.2495,0.0005"), "-> width=10&height=10&gravity=0.25,0.001");
    assert.equal(outcome("width=10&dpr=1.5"), "= width=10&dpr=1.5");
    assert.equal(outcome("width=10&dpr=02.50"), "-> width=10&dpr=2.5");
    assert.equal(outcome("sharpen=9.95"), "-> sharpen=10");
    assert.equal(outcome("sharpen=0.04"), "-> ");
  });

  test("shapes are bad_value, ranges out_of_range", () => {
    for (const q of ["crop=1,2,3", "dpr=x", "gravity=up", "background=%23ffffff", "background=fff"]) {
      assert.match(outcome(q), /^bad_value:/, q);
    }
    for (const q of ["crop=0,0,0,10", "dpr=0.5", "dpr=4.05", "sharpen=10.1", "gravity=1.2,0.5"]) {
      assert.match(outcome(q), /^out_of_range:/, q);
    }
    assert.equal(outcome("sharpen=0.1"), "out_of_range:sharpen");
    assert.equal(outcome("sharpen=0.2"), "out_of_range:sharpen");
    assert.equal(outcome("sharpen=-1"), "out_of_range:sharpen");
    assert.equal(outcome("dpr=-0"), "out_of_range:dpr");
    assert.equal(outcome("dpr=1."), "bad_value:dpr");
    assert.equal(outcome("dpr=.5"), "bad_value:dpr");
    assert.equal(outcome("dpr=+1"), "bad_value:dpr", "a + is a space");
    assert.equal(outcome("width=10&dpr=0.95"), "-> width=10", "0.95 rounds to 1");
    assert.equal(outcome("dpr=0.94"), "out_of_range:dpr");
  });

  test("every parameter is validated where the canonical form leaves it out", () => {
    assert.equal(outcome("dpr=0.5"), "out_of_range:dpr");
    assert.equal(outcome("gravity=up"), "bad_value:gravity");
    assert.equal(outcome("width=10&gravity=north"), "-> width=10");
    assert.equal(outcome("width=10&height=10&fit=contain&gravity=North"), "bad_value:gravity");
  });

  test("crop: four integers, shape before range", () => {
    assert.equal(outcome("crop=10,20,300,400"), "= crop=10,20,300,400");
    assert.equal(outcome("crop=010,0020,300,400"), "-> crop=10,20,300,400");
    assert.equal(outcome("crop=10%2C20%2c300%2C400"), "-> crop=10,20,300,400");
    assert.equal(outcome("crop=65535,65535,65535,65535"), "= crop=65535,65535,65535,65535");
    assert.equal(outcome("crop=65536,0,1,1"), "out_of_range:crop");
    assert.equal(outcome("crop=0,0,1,65536"), "out_of_range:crop");
    assert.equal(outcome("crop=-1,2,3"), "bad_value:crop");
    assert.equal(outcome("crop=-1,0,10,10"), "out_of_range:crop");
    assert.equal(outcome("crop=-0,0,10,10"), "out_of_range:crop");
    assert.equal(outcome("crop=1,2,3,x"), "bad_value:crop");
    assert.equal(outcome("crop=-1,0,10,x"), "bad_value:crop", "any malformed part wins over a range");
    assert.equal(outcome("crop=1,2,3,4,5"), "bad_value:crop");
    assert.equal(outcome("crop=1,2,3,"), "bad_value:crop");
    assert.equal(outcome("crop=1, 2,3,4"), "bad_value:crop");
    assert.equal(outcome("crop=99999999999999999999999,0,1,1"), "out_of_range:crop");
  });

  test("gravity: words, centre, focal points and when they are kept", () => {
    const box = "width=10&height=10";
    assert.equal(outcome(`${box}&gravity=centre`), `-> ${box}`);
    assert.equal(outcome(`${box}&gravity=center`), `-> ${box}`);
    assert.equal(outcome(`${box}&gravity=0.5,0.5`), `-> ${box}`);
    assert.equal(outcome(`${box}&gravity=0.500,0.5000`), `-> ${box}`);
    assert.equal(outcome(`${box}&gravity=attention`), `= ${box}&gravity=attention`);
    assert.equal(outcome(`${box}&fit=cover&gravity=entropy`), `-> ${box}&gravity=entropy`);
    assert.equal(outcome(`${box}&fit=inside&gravity=entropy`), `-> ${box}&fit=inside`);
    assert.equal(outcome(`${box}&gravity=0,1`), `= ${box}&gravity=0,1`);
    assert.equal(outcome(`${box}&gravity=0.0,1.0`), `-> ${box}&gravity=0,1`);
    assert.equal(outcome(`${box}&gravity=0.25%2C0.4`), `-> ${box}&gravity=0.25,0.4`);
    for (const bad of ["0.5", "0.5,0.5,0.5", "0.5,", ",0.5", "North", "0.5;0.5", "-x,0"]) {
      assert.equal(outcome(`gravity=${bad}`), "bad_value:gravity", bad);
    }
    for (const far of ["-0.5,0.5", "1.001,0", "0,1.0005", "2,2"]) {
      assert.equal(outcome(`gravity=${far}`), "out_of_range:gravity", far);
    }
    assert.equal(outcome("gravity=1.0004,0.9996"), "-> ", "rounded to 1,1: in range, then left out");
  });

  test("background: 6 or 8 hex digits, lowercase, alpha ff dropped, always kept", () => {
    assert.equal(outcome("background=ABCDEF"), "-> background=abcdef");
    assert.equal(outcome("background=abcdefFF"), "-> background=abcdef");
    assert.equal(outcome("background=abcdef80"), "= background=abcdef80");
    for (const bad of ["%23ffffff", "fff", "fffffff", "fffffffff", "gggggg", "ffffff%20"]) {
      assert.equal(outcome(`background=${bad}`), "bad_value:background", bad);
    }
  });

  test("palette as flip; format=auto", () => {
    assert.equal(outcome("palette=true"), "-> palette=1");
    assert.equal(outcome("palette=0"), "-> ");
    assert.equal(outcome("palette=yes"), "bad_value:palette");
    assert.equal(outcome("format=auto"), "= format=auto");
    assert.equal(outcome("format=AUTO"), "bad_value:format");
  });

  test("errors: duplicates before values, then the first invalid one in query order", () => {
    assert.equal(outcome("dpr=x&crop=1&dpr=2"), "duplicate_param:dpr");
    assert.equal(outcome("gravity=up&dpr=0"), "bad_value:gravity");
    assert.equal(outcome("dpr=0&gravity=up"), "out_of_range:dpr");
    assert.equal(outcome("utm=1&sharpen=11&crop=1"), "out_of_range:sharpen");
  });

  test("every v1 URL keeps its canonical query and sig", () => {
    assert.equal(
      transformPath(image, { width: 800, height: 600, fit: "inside" }),
      "/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/-kxNs2ASHLGRbeQtPPapdw?width=800&height=600&fit=inside",
    );
    assert.equal(transformPath(image, {}), "/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/_x0CgxAjhfihsxGk2km0sA");
  });
});

describe("the typed spec", () => {
  test("holds what the canonical query renders, defaults filled in", () => {
    const { spec } = parseQuery("crop=1,2,30,40&width=100&height=50&dpr=1.5&gravity=0.25,0.4&background=FF000080");
    assert.deepEqual(spec, {
      crop: { x: 1, y: 2, width: 30, height: 40 },
      width: 100,
      height: 50,
      dpr: 1.5,
      fit: "cover",
      gravity: { x: 0.25, y: 0.4 },
      rotate: 0,
      flip: false,
      mirror: false,
      grayscale: false,
      blur: 0,
      sharpen: 0,
      background: "ff000080",
      quality: 80,
      palette: false,
    });
    assert.equal(canonicalQuery(spec), "crop=1,2,30,40&width=100&height=50&dpr=1.5&gravity=0.25,0.4&background=ff000080");
  });

  test("values the canonical form leaves out are at their defaults", () => {
    const { spec } = parseQuery("width=10&dpr=2&fit=contain&gravity=north&watermarkText=&rotate=-360");
    assert.equal(spec.fit, "cover");
    assert.equal(spec.dpr, 2);
    assert.equal(spec.gravity, "center");
    assert.equal(spec.rotate, 0);
    assert.equal(spec.watermarkText, undefined);
    assert.equal(parseQuery("dpr=2").spec.dpr, 1);
    assert.equal(parseQuery("width=1&height=1&gravity=0.5,0.5").spec.gravity, "center");
    assert.equal(parseQuery("format=jpg&watermarkText=cafe%CC%81").spec.format, "jpeg");
    assert.equal(parseQuery("watermarkText=cafe%CC%81").spec.watermarkText, "caf\u00e9");
  });
});

describe("an image's focus", () => {
  // The Rust implementation's a_focus_fills_only_a_cover_that_names_no_gravity, case for
  // case: the API mints with that rule, so the builder's URLs must agree with it.
  const focus = { x: 0.25, y: 0.4 };
  const focused = (query: string) => canonicalQuery(withFocus(parseQuery(query).spec, focus));

  test("fills only a cover of a box that names no gravity", () => {
    assert.equal(focused("width=10&height=20"), "width=10&height=20&gravity=0.25,0.4");
    assert.equal(
      focused("width=10&height=20&gravity=center"),
      "width=10&height=20&gravity=0.25,0.4",
      "the centre is what a cover keeps when it names nothing",
    );
    for (const kept of [
      "width=10&height=20&gravity=north",
      "width=10&height=20&gravity=0.1,0.9",
      "width=10&height=20&fit=contain",
      "crop=0,0,50,50&width=10&height=20",
      "width=10",
      "",
    ]) {
      const { spec } = parseQuery(kept);
      assert.deepEqual(withFocus(spec, focus), spec, kept);
    }
  });

  test("the centre, or no focus, is no gravity at all", () => {
    const { spec } = parseQuery("width=10&height=20");
    assert.deepEqual(withFocus(spec, { x: 0.5, y: 0.5 }), spec);
    assert.equal(withFocus(spec, null), spec);
    assert.equal(withFocus(spec, undefined), spec);
  });

  test("keeps the rest of the spec, and a point by the rules of gravity", () => {
    const { spec } = parseQuery("width=10&height=20&dpr=2&format=auto");
    assert.equal(
      canonicalQuery(withFocus(spec, { x: 0.1 + 0.2, y: 1 })),
      "width=10&height=20&dpr=2&gravity=0.3,1&format=auto",
      "rounded to thousandths, not written through floating point",
    );
    assert.throws(() => withFocus(spec, { x: 1.5, y: 0 }), (e: unknown) => e instanceof UrlError && e.code === "out_of_range");
  });
});

describe("the builder", () => {
  test("writes parameters in canonical order whatever the order given", () => {
    const v = transformVariant(image, { format: "auto", sharpen: 0.5, grayscale: true, width: 320, rotate: -90, dpr: 2 });
    assert.equal(v.canonicalQuery, "width=320&dpr=2&rotate=270&grayscale=1&sharpen=0.5&format=auto");
  });

  test("takes crops and focal points as objects or strings", () => {
    const q = (options: TransformOptions) => transformVariant(image, options).canonicalQuery;
    assert.equal(q({ crop: { x: 0, y: 5, width: 10, height: 20 } }), "crop=0,5,10,20");
    assert.equal(q({ crop: "0,5,10,20" }), "crop=0,5,10,20");
    assert.equal(q({ width: 9, height: 9, gravity: { x: 0.125, y: 1 } }), "width=9&height=9&gravity=0.125,1");
    assert.equal(q({ width: 9, height: 9, gravity: "centre" }), "width=9&height=9");
    assert.equal(q({ background: "FFFFFF", palette: true, format: "png" }), "background=ffffff&palette=1&format=png");
    assert.equal(q({ dpr: 1.05, width: 1 }), "width=1&dpr=1.1");
  });

  test("leaves out defaults", () => {
    const all: TransformOptions = {
      width: 800,
      fit: "contain", // without a height
      dpr: 1,
      gravity: "north", // without a height
      rotate: 720,
      flip: false,
      mirror: false,
      grayscale: false,
      blur: 0,
      sharpen: 0,
      quality: 80,
      palette: false,
      watermarkText: "",
    };
    assert.equal(transformVariant(image, all).canonicalQuery, "width=800");
    assert.equal(transformVariant(image, { width: 8, height: 8, fit: "cover" }).canonicalQuery, "width=8&height=8");
  });

  test("writes canonical spellings", () => {
    assert.equal(transformVariant(image, { format: "jpg", blur: 2.45, quality: 75 }).canonicalQuery, "blur=2.5&quality=75&format=jpeg");
    assert.equal(transformVariant(image, { blur: 0.25 }).canonicalQuery, "blur=0.3");
    assert.equal(transformVariant(image, { blur: 9.95 }).canonicalQuery, "blur=10");
  });

  test("encodes watermarks: NFC, unreserved bytes literal, a literal + stays a plus", () => {
    const q = (watermarkText: string) => transformVariant(image, { watermarkText }).canonicalQuery;
    assert.equal(q("© Ana López"), "watermarkText=%C2%A9%20Ana%20L%C3%B3pez");
    assert.equal(q("cafe\u0301"), "watermarkText=caf%C3%A9");
    assert.equal(q("a+b"), "watermarkText=a%2Bb");
    assert.equal(q("a|b,c"), "watermarkText=a%7Cb%2Cc");
    assert.equal(q("!'()*"), "watermarkText=%21%27%28%29%2A");
    assert.equal(q("100% & more?"), "watermarkText=100%25%20%26%20more%3F");
    assert.equal(q("😀".repeat(64)), `watermarkText=${"%F0%9F%98%80".repeat(64)}`);
  });

  test("refuses values outside the spec, naming the parameter", () => {
    assert.equal(codeOf({ width: 0 }), "out_of_range:width");
    assert.equal(codeOf({ width: 8193 }), "out_of_range:width");
    assert.equal(codeOf({ height: 12.5 }), "bad_value:height");
    assert.equal(codeOf({ width: Number.NaN }), "bad_value:width");
    assert.equal(codeOf({ quality: 101 }), "out_of_range:quality");
    assert.equal(codeOf({ blur: 0.1 }), "out_of_range:blur");
    assert.equal(codeOf({ blur: -1 }), "out_of_range:blur");
    assert.equal(codeOf({ blur: 1e-7 }), "bad_value:blur");
    assert.equal(codeOf({ dpr: 5 }), "out_of_range:dpr");
    assert.equal(codeOf({ sharpen: 0.2 }), "out_of_range:sharpen");
    assert.equal(codeOf({ crop: { x: 0, y: 0, width: 0, height: 1 } }), "out_of_range:crop");
    assert.equal(codeOf({ gravity: { x: 1.5, y: 0 } }), "out_of_range:gravity");
    assert.equal(codeOf({ background: "#fff" }), "bad_value:background");
    assert.equal(codeOf({ watermarkText: "a".repeat(65) }), "out_of_range:watermarkText");
    assert.equal(codeOf({ watermarkText: "line\nbreak" }), "bad_value:watermarkText");
    assert.equal(codeOf({ fit: "stretch" as TransformOptions["fit"] }), "bad_value:fit");
    assert.equal(codeOf({ format: "gif" as TransformOptions["format"] }), "bad_value:format");
  });

  test("accepts any 64-bit integer rotation", () => {
    assert.equal(transformVariant(image, { rotate: -1 }).canonicalQuery, "rotate=359");
    assert.equal(canonicalQuery({ rotate: "9223372036854775807" }), "rotate=7");
    assert.throws(() => canonicalQuery({ rotate: "9223372036854775808" }), UrlError);
  });

  test("treats empty form fields as not given", () => {
    assert.equal(canonicalQuery({ width: "", height: "", watermarkText: "", format: "png" }), "format=png");
  });

  test("absolute URLs, and keys as hex or bytes", () => {
    const bytes = urlKey(SECRET, image.id);
    assert.equal(keyToHex(bytes), image.url_key);
    const path = transformPath({ id: image.id, url_key: bytes }, { width: 800 });
    assert.equal(path, "/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/XciLsd14s4fpM_4JhZ3Pqg?width=800");
    assert.equal(transformUrl("https://cdn.example.com/", image, { width: 800 }), `https://cdn.example.com${path}`);
  });

  test("refuses a key that is not one, and an id that is not a UUID", () => {
    assert.throws(() => transformPath({ ...image, url_key: "abc" }, {}), TypeError);
    assert.throws(() => transformPath({ ...image, url_key: new Uint8Array(31) }, {}), TypeError);
    assert.throws(() => transformPath({ ...image, id: image.id.toUpperCase() }, {}), (e) => e instanceof UrlError && e.code === "bad_image_id");
  });
});

describe("keys, epochs and decisions", () => {
  test("epoch 0 is v1's key; later epochs hash `id:epoch`", () => {
    const k0 = keyToHex(urlKey(SECRET, image.id));
    assert.equal(k0, image.url_key);
    assert.equal(keyToHex(urlKey(SECRET, image.id, 0)), k0);
    const k1 = keyToHex(urlKey(SECRET, image.id, 1));
    assert.notEqual(k1, k0);
    assert.equal(keyToHex(urlKey(SECRET, `${image.id}:1`)), k1);
    assert.throws(() => urlKey(SECRET, image.id, -1), RangeError);
    assert.throws(() => urlKey(SECRET, image.id, 1.5), RangeError);
  });

  test("a URL signed at an older epoch stops verifying", () => {
    const sig0 = signQuery(urlKey(SECRET, image.id, 0), "width=800");
    const sig1 = signQuery(urlKey(SECRET, image.id, 1), "width=800");
    const path = (sig: string) => `/i/${image.id}/${sig}`;
    assert.deepEqual(requestOutcome(SECRET, path(sig0), "width=800", 0), { status: 200 });
    assert.deepEqual(requestOutcome(SECRET, path(sig0), "width=800", 1), { status: 403 });
    assert.deepEqual(requestOutcome(SECRET, path(sig1), "width=800", 1), { status: 200 });
  });

  test("decide: the redirect needs no key", () => {
    const request = parseTransformRequest(`/i/${image.id}/AAAAAAAAAAAAAAAAAAAAAA`, "height=1&width=1");
    assert.deepEqual(decide(request, null), {
      status: 301,
      location: `/i/${image.id}/AAAAAAAAAAAAAAAAAAAAAA?width=1&height=1`,
    });
    const canonical = parseTransformRequest(`/i/${image.id}/AAAAAAAAAAAAAAAAAAAAAA`, "width=1");
    assert.deepEqual(decide(canonical, null), { status: 200 });
    assert.deepEqual(decide(canonical, image.url_key), { status: 403 });
  });

  test("a path outside /i/ or without a sig is a bad image id or a bad sig", () => {
    assert.equal(requestOutcome(SECRET, "/favicon.ico", "").status, 400);
    assert.throws(() => parseTransformRequest("/favicon.ico", ""), (e) => e instanceof UrlError && e.code === "bad_image_id");
    assert.throws(() => parseTransformRequest(`/i/${image.id}`, ""), (e) => e instanceof UrlError && e.code === "bad_sig");
    assert.throws(() => parseTransformRequest(`/i/${image.id}/`, ""), (e) => e instanceof UrlError && e.code === "bad_sig");
  });

  test("errors carry the spec's JSON body", () => {
    const outcome = requestOutcome(SECRET, `/i/${image.id}/AAAAAAAAAAAAAAAAAAAAAA`, "dpr=9");
    assert.equal(outcome.status, 400);
    if (outcome.status === 400) {
      assert.deepEqual(JSON.parse(JSON.stringify(outcome.error)), {
        error: "out_of_range",
        message: "dpr must be a decimal from 1 to 4 (rounded to one fractional digit)",
      });
    }
  });
});

describe("cache keys and S3 keys", () => {
  const sig = "XciLsd14s4fpM_4JhZ3Pqg";
  const auto = { imageId: image.id, sig, canonicalQuery: "width=800&format=auto" };
  const fixed = { imageId: image.id, sig, canonicalQuery: "width=800&format=webp" };
  const original = { imageId: image.id, sig, canonicalQuery: "" };

  test("format=auto carries its class; other URLs never do", () => {
    assert.equal(cacheKey(auto, "avif"), `/i/${image.id}/${sig}?width=800&format=auto|avif`);
    assert.equal(variantKey(auto, "basic"), `v/${image.id}/${sig}.basic`);
    assert.equal(cacheKey(fixed, "avif"), `/i/${image.id}/${sig}?width=800&format=webp`);
    assert.equal(variantKey(fixed, null), `v/${image.id}/${sig}`);
    assert.equal(cacheKey(original, null), `/i/${image.id}/${sig}`);
    assert.equal(originalKey(image.id), `o/${image.id}`);
    assert.throws(() => variantKey(auto, null), TypeError);
  });

  test("format=auto is a whole pair of the canonical query", () => {
    assert.equal(isAutoFormat("format=auto"), true);
    assert.equal(isAutoFormat("quality=50&format=auto&watermarkText=x"), true);
    assert.equal(isAutoFormat("watermarkText=format%3Dauto"), false);
    assert.equal(isAutoFormat("format=avif"), false);
    assert.equal(requestAcceptClass(auto, "image/webp"), "webp");
    assert.equal(requestAcceptClass(fixed, "image/webp"), null);
  });
});

describe("acceptClass", () => {
  const { acceptClass } = acceptModule;

  test("browsers get their best format", () => {
    assert.equal(acceptClass("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"), "avif");
    assert.equal(acceptClass("image/webp,*/*"), "webp");
    assert.equal(acceptClass("image/avif;q=0,image/webp"), "webp");
    assert.equal(acceptClass("*/*"), "basic");
    assert.equal(acceptClass("image/*"), "basic");
    assert.equal(acceptClass(""), "basic");
    assert.equal(acceptClass(null), "basic");
    assert.equal(acceptClass(undefined), "basic");
  });

  test("media types compare ASCII case-insensitively, trimmed of spaces and tabs", () => {
    assert.equal(acceptClass(" IMAGE/AVIF ;\tq=1"), "avif");
    assert.equal(acceptClass("\timage/WebP\t"), "webp");
    assert.equal(acceptClass("image/avifx,image/webpx"), "basic");
    assert.equal(acceptClass("image/av\u0130f"), "basic");
    assert.equal(acceptClass("image/avif\n"), "basic", "only spaces and tabs are trimmed");
  });

  test("q=0 in any of its spellings unlists; any other q lists", () => {
    for (const q of ["0", "0.", "0.0", "0.00", "0.000", " 0 "]) {
      assert.equal(acceptClass(`image/avif;q=${q}`), "basic", q);
    }
    assert.equal(acceptClass("image/avif; Q = 0.000"), "basic");
    for (const q of ["0.0001", "0.001", "1", "x", "", "-0", "00", "0.0000", "\"0\""]) {
      assert.equal(acceptClass(`image/avif;q=${q}`), "avif", q);
    }
    assert.equal(acceptClass("image/avif;level=0;q"), "avif");
    assert.equal(acceptClass("image/avif;q=0,image/avif"), "avif", "listed by another element");
    assert.equal(acceptClass("image/avif;q=1;q=0"), "basic");
  });

  test("the module stands alone: no import, the same function as the index's", () => {
    const source = readFileSync(new URL("../dist/accept.js", import.meta.url), "utf8");
    assert.doesNotMatch(source, /^\s*import\b|\brequire\(/m);
    assert.equal(api.acceptClass, acceptModule.acceptClass);
    assert.deepEqual(acceptModule.ACCEPT_CLASSES, ["avif", "webp", "basic"]);
    assert.equal(acceptModule.ACCEPT_CLASS_HEADER, "x-imgedge-accept");
    assert.equal(acceptModule.isAcceptClass("webp"), true);
    assert.equal(acceptModule.isAcceptClass("WEBP"), false);
  });
});

describe("signatures", () => {
  test("base64url without padding", () => {
    assert.equal(base64url(new Uint8Array([])), "");
    assert.equal(base64url(new Uint8Array([0xfb])), "-w");
    assert.equal(base64url(new Uint8Array([0xfb, 0xff])), "-_8");
    assert.equal(base64url(new Uint8Array([0xfb, 0xff, 0xbf])), "-_-_");
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    assert.equal(base64url(bytes), Buffer.from(bytes).toString("base64url"));
  });

  test("well-formed sigs: 22 characters, unused bits zero", () => {
    assert.equal(isWellFormedSig("XciLsd14s4fpM_4JhZ3Pqg"), true);
    assert.equal(isWellFormedSig("XciLsd14s4fpM_4JhZ3Pqh"), false);
    assert.equal(isWellFormedSig("XciLsd14s4fpM_4JhZ3Pq"), false);
    assert.equal(isWellFormedSig("XciLsd14s4fpM+4JhZ3Pqg"), false);
  });
});

describe("encodings", () => {
  test("form-decoding: + is a space, escapes in either case, UTF-8 strictly", () => {
    assert.equal(formDecode("a+b%20c%c3%A9"), "a b c\u00e9");
    assert.equal(formDecode("%2541"), "%41");
    assert.equal(formDecode("\u00e9"), "\u00e9", "a raw non-ASCII character is its UTF-8 bytes");
    assert.equal(formDecode("%EF%BB%BFa"), "\ufeffa", "a leading byte order mark is kept");
    for (const bad of ["%", "%4", "%G1", "%1G", "%%41", "%FF", "%C0%AF", "%ED%A0%80"]) {
      assert.equal(formDecode(bad), null, bad);
    }
  });

  test("canonical percent-encoding", () => {
    assert.equal(percentEncode("AZaz09-._~ !'()*&=+"), "AZaz09-._~%20%21%27%28%29%2A%26%3D%2B");
    assert.equal(percentEncode("\u00a9"), "%C2%A9");
  });

  test("only the spec's names survive filtering, in query order", () => {
    const pairs = knownPairs("utm=1&&height=2&Width=3&width=4&x=%G1&%FF=1&fit&%64pr=2");
    assert.deepEqual(
      pairs.map((p) => [p.piece, p.name, p.rawValue]),
      [
        ["height=2", "height", "2"],
        ["width=4", "width", "4"],
        ["fit", "fit", ""],
        ["%64pr=2", "dpr", "2"],
      ],
    );
  });
});
