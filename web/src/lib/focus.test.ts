import { describe, expect, it } from "vitest";
import { DEFAULT_VALUES } from "./builder";
import { focusOfForm, focusedPath } from "./focus";
import { srcsetSnippet } from "./variants";
import { transformPath } from "../transform";

const image = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
  url_key: "65bd850eab1c7001c332621820c452ed614d3fd47776f6d37ec13dde1aa9b265",
  width: 1000,
  height: 500,
};

describe("focusOfForm", () => {
  it("is the form's focal point on the whole original, to thousandths", () => {
    expect(focusOfForm({ ...DEFAULT_VALUES, gravity: "focal", focalX: "0.25", focalY: "0.4" }, image)).toEqual({ x: 0.25, y: 0.4 });
    // Within a crop of the right half: x 0.5 of the crop is 0.75 of the image.
    const cropped = { ...DEFAULT_VALUES, cropX: "500", cropY: "0", cropWidth: "500", cropHeight: "500" };
    expect(focusOfForm({ ...cropped, gravity: "focal", focalX: "0.5", focalY: "0.3333" }, image)).toEqual({ x: 0.75, y: 0.333 });
  });

  it("is null unless the form's gravity is a focal point", () => {
    expect(focusOfForm(DEFAULT_VALUES, image)).toBeNull();
    expect(focusOfForm({ ...DEFAULT_VALUES, gravity: "north" }, image)).toBeNull();
    expect(focusOfForm({ ...DEFAULT_VALUES, gravity: "focal", focalX: "", focalY: "" }, image)).toBeNull();
  });
});

describe("focusedPath", () => {
  it("applies the focus to the snippets' cover boxes too", () => {
    const focused = { ...image, focus: { x: 0.1, y: 0.2 } };
    expect(focusedPath(focused, { width: 10, height: 10 })).toBe(transformPath(image, { width: 10, height: 10, gravity: { x: 0.1, y: 0.2 } }));
    const snippet = srcsetSnippet(focused, { width: "300", height: "300" }, "https://cdn.example.com");
    expect(snippet).toContain(`https://cdn.example.com${transformPath(image, { width: 320, height: 320, gravity: { x: 0.1, y: 0.2 } }).replaceAll("&", "&amp;")} 320w`);
  });
});
