import { describe, expect, it } from "vitest";
import { formatBytes, formatFromContentType } from "./format";

describe("format", () => {
  it("formats byte sizes", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(246_709)).toBe("241 KB");
    expect(formatBytes(25 * 1024 * 1024)).toBe("25.0 MB");
  });

  it("names formats from content types", () => {
    expect(formatFromContentType("image/webp")).toBe("webp");
    expect(formatFromContentType("image/jpeg; charset=binary")).toBe("jpeg");
  });
});
