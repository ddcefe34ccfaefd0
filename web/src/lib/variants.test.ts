import { describe, expect, it } from "vitest";
import { transformPath } from "../transform";
import { buildVariant, DEFAULT_VALUES, fitApplies, builderParams } from "./builder";
import { absoluteUrl, densitySnippet, layoutSize, pickerPath, srcsetSnippet, thumbnailPath } from "./variants";

const image = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
  url_key: "65bd850eab1c7001c332621820c452ed614d3fd47776f6d37ec13dde1aa9b265",
  width: 1024,
  height: 682,
};
const origin = "https://img.example.com";

describe("the builder's form", () => {
  it("is the original in the browser's best format (format=auto) with its defaults", () => {
    expect(builderParams(DEFAULT_VALUES)).toEqual({
      dpr: "1",
      fit: "cover",
      gravity: "center",
      rotate: "0",
      blur: "0",
      sharpen: "0",
      quality: "80",
      format: "auto",
    });
    const result = buildVariant(image, DEFAULT_VALUES);
    expect(result.ok && result.variant.canonicalQuery).toBe("format=auto");
    const original = buildVariant(image, { ...DEFAULT_VALUES, format: "" });
    expect(original.ok && original.variant.canonicalQuery).toBe("");
  });

  it("signs what the controls say", () => {
    const result = buildVariant(image, { ...DEFAULT_VALUES, width: "400", grayscale: true, format: "webp" });
    expect(result.ok && result.variant.path).toBe(transformPath(image, { width: 400, grayscale: true, format: "webp" }));
  });

  it("keeps watermark spaces, and trims numbers", () => {
    const result = buildVariant(image, { ...DEFAULT_VALUES, width: " 400 ", watermarkText: " hi ", format: "" });
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

describe("1.1 in the snippets", () => {
  it("writes a density srcset: the same settings at dpr 1, 2 and 3", () => {
    const params = builderParams({ ...DEFAULT_VALUES, width: "400", dpr: "2" });
    const snippet = densitySnippet(image, params, origin, "x")!;
    const url = (dpr: number) =>
      (origin + transformPath(image, { width: 400, dpr, format: "auto" })).replaceAll("&", "&amp;");
    expect(url(1)).toContain("?width=400&amp;format=auto");
    expect(url(2)).toContain("?width=400&amp;dpr=2&amp;format=auto");
    expect(snippet).toContain(`src="${url(1)}"`);
    for (const dpr of [1, 2, 3]) expect(snippet).toContain(`${url(dpr)} ${dpr}x`);
    expect(snippet).toContain('width="400" height="266"');
  });

  it("has no density srcset without a width or height", () => {
    expect(densitySnippet(image, builderParams(DEFAULT_VALUES), origin)).toBeNull();
  });

  it("sizes a density srcset by the box, the crop and a quarter turn", () => {
    expect(layoutSize(image, { width: "300", height: "200" })).toEqual({ width: 300, height: 200 });
    expect(layoutSize(image, { width: "300", height: "300", fit: "inside" })).toEqual({ width: 300, height: 200 });
    expect(layoutSize(image, { height: "100", crop: "0,0,500,250" })).toEqual({ width: 200, height: 100 });
    expect(layoutSize(image, { width: "300", height: "200", rotate: "90" })).toEqual({ width: 200, height: 300 });
  });

  it("leaves dpr out of a width srcset, and stops at the crop's width", () => {
    const snippet = srcsetSnippet(image, { crop: "10,10,500,300", width: "400", dpr: "2", format: "auto" }, origin);
    expect(snippet).not.toContain("dpr=");
    const at320 = transformPath(image, { crop: { x: 10, y: 10, width: 500, height: 300 }, width: 320, format: "auto" });
    expect(snippet).toContain(`${at320.replaceAll("&", "&amp;")} 320w`);
    expect(snippet).toContain(" 500w");
    expect(snippet).not.toContain(" 640w");
    expect(snippet).toContain('width="500" height="300"');
  });

  it("shows the picker the original, at most 800 wide, in the browser's best format", () => {
    expect(pickerPath(image)).toBe(transformPath(image, { width: 800, format: "auto" }));
    expect(pickerPath({ ...image, width: 500 })).toMatch(/\?width=500&format=auto$/);
  });
});
