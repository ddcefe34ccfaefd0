import { describe, expect, it } from "vitest";
import { acceptClass } from "../transform";
import { imageAccept, imageAcceptHeader, PROBES, probeBytes } from "./accept";

describe("the preview's Accept header", () => {
  it("lists what the browser decodes, as its <img> requests do, which format=auto chooses by", () => {
    const both = imageAcceptHeader({ avif: true, webp: true });
    expect(both).toBe("image/avif,image/webp,image/*,*/*;q=0.8");
    expect(acceptClass(both)).toBe("avif");
    expect(acceptClass(imageAcceptHeader({ avif: false, webp: true }))).toBe("webp");
    expect(acceptClass(imageAcceptHeader({ avif: false, webp: false }))).toBe("basic");
    // Chromium's own, for comparison.
    expect(acceptClass("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")).toBe("avif");
  });

  it("probes with a real AVIF and a real WebP", () => {
    const avif = probeBytes(PROBES.avif);
    expect(new TextDecoder().decode(avif.subarray(4, 12))).toBe("ftypavif");
    const webp = new TextDecoder().decode(probeBytes(PROBES.webp).subarray(0, 16));
    expect(webp.slice(0, 4)).toBe("RIFF");
    expect(webp.slice(8, 16)).toBe("WEBPVP8 ");
  });

  it("claims neither where nothing can be decoded (no createImageBitmap here)", async () => {
    await expect(imageAccept()).resolves.toBe("image/*,*/*;q=0.8");
  });
});
