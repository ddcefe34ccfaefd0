import { describe, expect, it } from "vitest";
import { transformPath } from "../transform";
import { buildVariant, DEFAULT_VALUES, fitApplies, builderParams } from "./builder";
import { absoluteUrl, srcsetSnippet, thumbnailPath } from "./variants";

const image = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
  url_key: "65bd850eab1c7001c332621820c452ed614d3fd47776f6d37ec13dde1aa9b265",
  width: 1024,
  height: 682,
};
const origin = "https://img.example.com";

describe("the builder's form", () => {
  it("is the original with its defaults", () => {
    expect(builderParams(DEFAULT_VALUES)).toEqual({ fit: "cover", rotate: "0", blur: "0", quality: "80" });
    const result = buildVariant(image, DEFAULT_VALUES);
    expect(result.ok && result.variant.canonicalQuery).toBe("");
  });

  it("signs what the controls say", () => {
    const result = buildVariant(image, { ...DEFAULT_VALUES, width: "400", grayscale: true, format: "webp" });
    expect(result.ok && result.variant.path).toBe(transformPath(image, { width: 400, grayscale: true, format: "webp" }));
  });

  it("keeps watermark spaces, and trims numbers", () => {
    const result = buildVariant(image, { ...DEFAULT_VALUES, width: " 400 ", watermarkText: " hi " });
    expect(result.ok && result.variant.canonicalQuery).toBe("width=400&watermarkText=%20hi%20");
  });

  it("names the field the spec refuses", () => {
    expect(buildVariant(image, { ...DEFAULT_VALUES, blur: "0.2" })).toMatchObject({ ok: false, param: "blur" });
    expect(buildVariant(image, { ...DEFAULT_VALUES, width: "9000" })).toMatchObject({ ok: false, param: "width" });
  });

  it("knows when fit applies", () => {
    expect(fitApplies({ ...DEFAULT_VALUES, width: "1" })).toBe(false);
    expect(fitApplies({ ...DEFAULT_VALUES, width: "1", height: "2" })).toBe(true);
  });
});

describe("variant URLs", () => {
  it("makes 320-pixel WebP thumbnails", () => {
    expect(thumbnailPath(image)).toBe(transformPath(image, { width: 320, format: "webp" }));
    expect(thumbnailPath(image)).toMatch(/\?width=320&format=webp$/);
  });

  it("makes absolute URLs on the page's origin", () => {
    expect(absoluteUrl("/i/x/y?width=1", origin)).toBe("https://img.example.com/i/x/y?width=1");
  });

  it("writes a srcset up to the original's width, escaped for HTML", () => {
    const snippet = srcsetSnippet(image, { grayscale: "1", width: "400" }, origin, 'a "quoted" <name>');
    for (const w of [320, 640, 960, 1024]) {
      const url = origin + transformPath(image, { width: w, grayscale: true });
      expect(snippet).toContain(`${url.replaceAll("&", "&amp;")} ${w}w`);
    }
    expect(snippet).not.toContain("1280w");
    expect(snippet).toContain('width="960" height="639"');
    expect(snippet).toContain('alt="a &quot;quoted&quot; &lt;name>"');
  });

  it("keeps a tall box within the largest height", () => {
    const snippet = srcsetSnippet(image, { width: "1", height: "8192" }, origin);
    expect(snippet).toContain(" 1w\"");
    const tall = srcsetSnippet(image, { width: "100", height: "2000" }, origin);
    expect(tall).toContain("width=320&amp;height=6400");
    expect(tall).not.toContain("640w");
  });

  it("scales a fixed box with each width, and swaps the aspect for a quarter turn", () => {
    const boxed = srcsetSnippet(image, { width: "400", height: "200", fit: "fill" }, origin);
    expect(boxed).toContain(transformPath(image, { width: 640, height: 320, fit: "fill" }).replaceAll("&", "&amp;"));
    expect(boxed).toContain('width="960" height="480"');
    const turned = srcsetSnippet(image, { rotate: "90" }, origin);
    expect(turned).toContain('width="960" height="1441"');
  });
});
