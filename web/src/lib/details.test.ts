import { describe, expect, it } from "vitest";
import { detailsFormOf, detailsPatch } from "./details";

const image = { alt: "A harbour", title: null, tags: ["boats", "sea"] };

describe("the description's merge patch", () => {
  it("is empty when nothing changed", () => {
    expect(detailsPatch(image, detailsFormOf(image))).toEqual({});
    expect(detailsPatch(image, { ...detailsFormOf(image), tags: "Sea boats" })).toEqual({});
  });

  it("names only what changed; emptied text removes the field", () => {
    const form = detailsFormOf(image);
    expect(detailsPatch(image, { ...form, title: "  Dusk " })).toEqual({ title: "Dusk" });
    expect(detailsPatch(image, { ...form, alt: " " })).toEqual({ alt: null });
    expect(detailsPatch(image, { ...form, tags: "sea, harbour" })).toEqual({ tags: ["harbour", "sea"] });
    expect(detailsPatch(image, { ...form, tags: "" })).toEqual({ tags: [] });
  });

  it("sends a decorative image's alt as the empty string", () => {
    const form = detailsFormOf(image);
    expect(detailsPatch(image, { ...form, decorative: true })).toEqual({ alt: "" });
    const decorative = { ...image, alt: "" };
    expect(detailsFormOf(decorative)).toMatchObject({ alt: "", decorative: true });
    expect(detailsPatch(decorative, { ...detailsFormOf(decorative), decorative: false, alt: "Boats" })).toEqual({ alt: "Boats" });
  });
});
