import { rgbaToThumbHash } from "thumbhash";
import { describe, expect, it } from "vitest";
import { boxOf, placeholderColour, thumbhashDataUrl } from "./placeholder";

/** A ThumbHash as the API sends it: base64 of an image's hash (here a 4 × 2 red one). */
function hashOf(): string {
  const rgba = new Uint8Array(4 * 2 * 4).map((_, i) => (i % 4 === 0 || i % 4 === 3 ? 255 : 0));
  return Buffer.from(rgbaToThumbHash(4, 2, rgba)).toString("base64");
}

describe("thumbhashDataUrl", () => {
  it("decodes a hash to a PNG data URL", () => {
    const url = thumbhashDataUrl(hashOf());
    expect(url).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/);
  });

  it("is null without a hash or for one that is not", () => {
    expect(thumbhashDataUrl(null)).toBeNull();
    expect(thumbhashDataUrl(undefined)).toBeNull();
    expect(thumbhashDataUrl("")).toBeNull();
    expect(thumbhashDataUrl("not base64!")).toBeNull();
    expect(thumbhashDataUrl("AAA=")).toBeNull();
  });
});

describe("placeholderColour", () => {
  it("passes #rrggbb only", () => {
    expect(placeholderColour("#a1b2c3")).toBe("#a1b2c3");
    expect(placeholderColour("red")).toBeNull();
    expect(placeholderColour('#000000" onload="x')).toBeNull();
    expect(placeholderColour(null)).toBeNull();
  });
});

describe("boxOf", () => {
  it("is the shown width by the aspect ratio, never wider than the image", () => {
    expect(boxOf({ width: 1024, aspect_ratio: 1024 / 682 }, 320)).toEqual({ width: 320, height: 213 });
    expect(boxOf({ width: 200, aspect_ratio: 0.5 }, 320)).toEqual({ width: 200, height: 400 });
    expect(boxOf({ width: 200, aspect_ratio: 0 }, 320)).toEqual({ width: 200, height: 200 });
  });
});
