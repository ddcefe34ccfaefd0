/**
 * The URL builder beyond the shared vectors, through the web client's import of the shared
 * package: the typed API and its edge cases.
 */
import { describe, expect, it } from "vitest";
import {
  UrlError,
  base64url,
  canonicalQueryOf,
  isWellFormedSig,
  parseQuery,
  transformPath,
  transformVariant,
  type TransformOptions,
} from "./index";

// Image A of testdata/url-vectors.json, and its url_key.
const image = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
  url_key: "65bd850eab1c7001c332621820c452ed614d3fd47776f6d37ec13dde1aa9b265",
};

function codeOf(options: TransformOptions): string | undefined {
  try {
    transformVariant(image, options);
  } catch (error) {
    if (error instanceof UrlError) return `${error.code}:${error.param}`;
    throw error;
  }
  return undefined;
}

describe("transformPath", () => {
  it("matches the example of docs/transform-urls.md", () => {
    expect(transformPath(image, { width: 800, height: 600, fit: "inside" })).toBe(
      "/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/-kxNs2ASHLGRbeQtPPapdw?width=800&height=600&fit=inside",
    );
  });

  it("signs the empty query for the original, with no ?", () => {
    expect(transformPath(image, {})).toBe("/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/_x0CgxAjhfihsxGk2km0sA");
  });

  it("writes parameters in table order whatever the order given", () => {
    const v = transformVariant(image, { format: "webp", grayscale: true, width: 320, rotate: -90 });
    expect(v.canonicalQuery).toBe("width=320&rotate=270&grayscale=1&format=webp");
  });

  it("leaves out defaults", () => {
    const all: TransformOptions = {
      width: 800,
      fit: "contain", // without a height
      rotate: 720,
      flip: false,
      mirror: false,
      grayscale: false,
      blur: 0,
      quality: 80,
      watermarkText: "",
    };
    expect(transformVariant(image, all).canonicalQuery).toBe("width=800");
    expect(transformVariant(image, { width: 8, height: 8, fit: "cover" }).canonicalQuery).toBe("width=8&height=8");
  });

  it("writes canonical spellings", () => {
    expect(transformVariant(image, { format: "jpg", blur: 2.45, quality: 75 }).canonicalQuery).toBe(
      "blur=2.5&quality=75&format=jpeg",
    );
    expect(transformVariant(image, { blur: 0.25 }).canonicalQuery).toBe("blur=0.3");
    expect(transformVariant(image, { blur: 9.95 }).canonicalQuery).toBe("blur=10");
  });

  it("encodes watermarks: NFC, unreserved bytes literal, a literal + stays a plus", () => {
    const q = (watermarkText: string) => transformVariant(image, { watermarkText }).canonicalQuery;
    expect(q("© Ana López")).toBe("watermarkText=%C2%A9%20Ana%20L%C3%B3pez");
    expect(q("cafe\u0301")).toBe("watermarkText=caf%C3%A9");
    expect(q("a+b")).toBe("watermarkText=a%2Bb");
    expect(q("!'()*")).toBe("watermarkText=%21%27%28%29%2A");
    expect(q("100% & more?")).toBe("watermarkText=100%25%20%26%20more%3F");
    expect(q("😀".repeat(64))).toBe(`watermarkText=${"%F0%9F%98%80".repeat(64)}`);
  });

  it("refuses values outside the spec, naming the parameter", () => {
    expect(codeOf({ width: 0 })).toBe("out_of_range:width");
    expect(codeOf({ width: 8193 })).toBe("out_of_range:width");
    expect(codeOf({ height: 12.5 })).toBe("bad_value:height");
    expect(codeOf({ width: Number.NaN })).toBe("bad_value:width");
    expect(codeOf({ quality: 101 })).toBe("out_of_range:quality");
    expect(codeOf({ blur: 0.1 })).toBe("out_of_range:blur");
    expect(codeOf({ blur: -1 })).toBe("out_of_range:blur");
    expect(codeOf({ blur: 1e-7 })).toBe("bad_value:blur");
    expect(codeOf({ watermarkText: "a".repeat(65) })).toBe("out_of_range:watermarkText");
    expect(codeOf({ watermarkText: "line\nbreak" })).toBe("bad_value:watermarkText");
    expect(codeOf({ fit: "stretch" as TransformOptions["fit"] })).toBe("bad_value:fit");
    expect(codeOf({ format: "gif" as TransformOptions["format"] })).toBe("bad_value:format");
  });

  it("accepts any integer rotation, including beyond 2^53", () => {
    expect(transformVariant(image, { rotate: -1 }).canonicalQuery).toBe("rotate=359");
    expect(canonicalQueryOf({ rotate: "9223372036854775807" })).toBe("rotate=7");
    expect(() => canonicalQueryOf({ rotate: "9223372036854775808" })).toThrow(UrlError);
  });

  it("treats empty form fields as not given", () => {
    expect(canonicalQueryOf({ width: "", height: "", watermarkText: "", format: "png" })).toBe("format=png");
  });

  it("gives another sig for another image or another query", () => {
    const other = { ...image, id: "c0ffee00-1234-4abc-8def-0123456789ab" };
    expect(transformVariant(image, { width: 800 }).sig).not.toBe(transformVariant(image, { width: 801 }).sig);
    expect(transformVariant(other, { width: 800 }).path).toContain(other.id);
  });

  it("refuses a url_key that is not 64 hex characters", () => {
    expect(() => transformPath({ ...image, url_key: "abc" }, {})).toThrow(TypeError);
  });
});

describe("parseQuery", () => {
  it("reports whether a query is already canonical", () => {
    expect(parseQuery("width=800&utm_source=x").isCanonical).toBe(true);
    expect(parseQuery("height=600&width=800")).toMatchObject({
      isCanonical: false,
      canonicalQuery: "width=800&height=600",
    });
  });

  it("keeps a byte-order mark in a watermark (it is not a control character)", () => {
    expect(parseQuery("watermarkText=%EF%BB%BFa").canonicalQuery).toBe("watermarkText=%EF%BB%BFa");
  });
});

describe("signatures", () => {
  it("encodes base64url without padding", () => {
    expect(base64url(new Uint8Array([]))).toBe("");
    expect(base64url(new Uint8Array([0xfb]))).toBe("-w");
    expect(base64url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(base64url(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe("-_-_");
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    expect(base64url(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
  });

  it("recognises well-formed sigs: 22 characters, unused bits zero", () => {
    expect(isWellFormedSig("XciLsd14s4fpM_4JhZ3Pqg")).toBe(true);
    expect(isWellFormedSig("XciLsd14s4fpM_4JhZ3Pqh")).toBe(false);
    expect(isWellFormedSig("XciLsd14s4fpM_4JhZ3Pq")).toBe(false);
    expect(isWellFormedSig("XciLsd14s4fpM+4JhZ3Pqg")).toBe(false);
  });
});
