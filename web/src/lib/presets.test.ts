import { describe, expect, it } from "vitest";
import { presetNameProblem, presetQuery } from "./presets";

describe("presets", () => {
  it("take the API's names only", () => {
    expect(presetNameProblem("card")).toBeNull();
    expect(presetNameProblem("hero_2x-wide")).toBeNull();
    expect(presetNameProblem("")).not.toBeNull();
    expect(presetNameProblem("Card")).not.toBeNull();
    expect(presetNameProblem("-card")).not.toBeNull();
    expect(presetNameProblem("a".repeat(65))).not.toBeNull();
  });

  it("show the canonical query the API stores, or the spec's refusal", () => {
    expect(presetQuery("?format=auto&width=640")).toEqual({ ok: true, canonical: "width=640&format=auto" });
    expect(presetQuery("width=0")).toMatchObject({ ok: false });
  });
});
