import { describe, expect, it } from "vitest";
import { formatTags, parseTags, tagsProblem } from "./tags";

describe("tags", () => {
  it("are typed with commas or spaces, lowered, without duplicates, sorted", () => {
    expect(parseTags(" Beach, sunset  holiday,beach ,, ")).toEqual(["beach", "holiday", "sunset"]);
    expect(parseTags("")).toEqual([]);
    expect(formatTags(["a", "b-c"])).toBe("a, b-c");
  });

  it("are explained when the API would refuse them", () => {
    expect(tagsProblem(["beach", "new-york", "2026"])).toBeNull();
    expect(tagsProblem(["new--york"])).toMatch(/new--york/);
    expect(tagsProblem(["-x"])).not.toBeNull();
    expect(tagsProblem(["é"])).not.toBeNull();
    expect(tagsProblem(["a".repeat(65)])).not.toBeNull();
    expect(tagsProblem(Array.from({ length: 33 }, (_, i) => `t${i}`))).toMatch(/32/);
  });
});
