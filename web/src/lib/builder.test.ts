/**
 * The 1.1 controls of the URL builder: what each gives in the canonical query, always
 * through the package (the expected paths are the package's own, from typed options).
 */
import { describe, expect, it } from "vitest";
import { transformPath, transformVariant, type TransformOptions } from "../transform";
import { buildVariant, DEFAULT_VALUES, dprApplies, gravityApplies, paletteMayApply, type BuilderValues } from "./builder";
import { cropFromDrag, withCrop, withFocus } from "./region";

// Image A of testdata/url-vectors.json, with the size of testdata/photos/detail.jpg.
const image = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
  url_key: "65bd850eab1c7001c332621820c452ed614d3fd47776f6d37ec13dde1aa9b265",
  width: 1024,
  height: 682,
};

function query(changes: Partial<BuilderValues>): string {
  const result = buildVariant(image, { ...DEFAULT_VALUES, ...changes });
  if (!result.ok) throw new Error(`refused: ${result.param}: ${result.message}`);
  return result.variant.canonicalQuery;
}

function refused(changes: Partial<BuilderValues>): string | undefined {
  const result = buildVariant(image, { ...DEFAULT_VALUES, ...changes });
  return result.ok ? undefined : result.param;
}

function pathOf(values: BuilderValues): string {
  const result = buildVariant(image, values);
  if (!result.ok) throw new Error(`refused: ${result.param}: ${result.message}`);
  return result.variant.path;
}

const box = { width: "300", height: "300" };

describe("format", () => {
  it("is auto by default, signed as the package signs it", () => {
    expect(DEFAULT_VALUES.format).toBe("auto");
    expect(pathOf({ ...DEFAULT_VALUES, width: "400" })).toBe(transformPath(image, { width: 400, format: "auto" }));
    expect(query({ width: "400" })).toBe("width=400&format=auto");
  });

  it("keeps the original's format when emptied, and takes any output format", () => {
    expect(query({ format: "", width: "400" })).toBe("width=400");
    expect(query({ format: "avif" })).toBe("format=avif");
  });
});

describe("dpr", () => {
  it("multiplies a width or height, in tenths", () => {
    expect(query({ width: "400", dpr: "2" })).toBe("width=400&dpr=2&format=auto");
    expect(query({ height: "300", dpr: "1.05" })).toBe("height=300&dpr=1.1&format=auto");
    expect(query({ width: "400", dpr: "1" })).toBe("width=400&format=auto");
  });

  it("is left out without a width or height, and refused outside 1 to 4", () => {
    expect(query({ dpr: "3" })).toBe("format=auto");
    expect(dprApplies({ ...DEFAULT_VALUES, dpr: "3" })).toBe(false);
    expect(dprApplies({ ...DEFAULT_VALUES, height: "10" })).toBe(true);
    expect(refused({ width: "400", dpr: "0.5" })).toBe("dpr");
    expect(refused({ width: "400", dpr: "4.05" })).toBe("dpr");
    expect(refused({ width: "400", dpr: "2x" })).toBe("dpr");
  });
});

describe("gravity", () => {
  it("writes compass words and the smart crops for cover with both sides", () => {
    expect(query({ ...box, gravity: "northeast" })).toBe("width=300&height=300&gravity=northeast&format=auto");
    expect(query({ ...box, gravity: "attention" })).toBe("width=300&height=300&gravity=attention&format=auto");
    expect(query({ ...box, gravity: "entropy" })).toBe("width=300&height=300&gravity=entropy&format=auto");
    expect(query({ ...box, gravity: "center" })).toBe("width=300&height=300&format=auto");
  });

  it("is left out where cover does not crop", () => {
    expect(query({ width: "300", gravity: "north" })).toBe("width=300&format=auto");
    expect(query({ ...box, fit: "contain", gravity: "north" })).toBe("width=300&height=300&fit=contain&format=auto");
    expect(gravityApplies({ ...DEFAULT_VALUES, ...box })).toBe(true);
    expect(gravityApplies({ ...DEFAULT_VALUES, ...box, fit: "inside" })).toBe(false);
    expect(gravityApplies({ ...DEFAULT_VALUES, width: "300" })).toBe(false);
  });

  it("sets a focal point from a click on the image, to 0.001", () => {
    const clicked = withFocus({ ...DEFAULT_VALUES, ...box }, { x: 0.25, y: 0.4 }, image);
    expect(clicked).toMatchObject({ gravity: "focal", focalX: "0.25", focalY: "0.4" });
    const expected: TransformOptions = { width: 300, height: 300, gravity: { x: 0.25, y: 0.4 }, format: "auto" };
    expect(pathOf(clicked)).toBe(transformPath(image, expected));
    expect(transformVariant(image, expected).canonicalQuery).toBe("width=300&height=300&gravity=0.25,0.4&format=auto");

    const third = withFocus({ ...DEFAULT_VALUES, ...box }, { x: 1 / 3, y: 2 / 3 }, image);
    expect(pathOf(third)).toContain("gravity=0.333,0.667&");
    const corner = withFocus({ ...DEFAULT_VALUES, ...box }, { x: -0.2, y: 1.3 }, image);
    expect(pathOf(corner)).toContain("gravity=0,1&");
  });

  it("measures a focal point within the crop, as the spec does", () => {
    const cropped = { ...DEFAULT_VALUES, ...box, cropX: "256", cropY: "0", cropWidth: "512", cropHeight: "341" };
    // The centre of the crop is the point (512, 170.5) of the original.
    const clicked = withFocus(cropped, { x: 512 / 1024, y: 170.5 / 682 }, image);
    expect(clicked).toMatchObject({ focalX: "0.5", focalY: "0.5" });
    // Left of the crop: its left edge.
    expect(withFocus(cropped, { x: 0.1, y: 0.25 }, image)).toMatchObject({ focalX: "0", focalY: "0.5" });
    expect(pathOf(withFocus(cropped, { x: 0.625, y: 0.125 }, image))).toBe(
      transformPath(image, {
        crop: { x: 256, y: 0, width: 512, height: 341 },
        width: 300,
        height: 300,
        gravity: { x: 0.75, y: 0.25 },
        format: "auto",
      }),
    );
  });

  it("refuses a focal point outside 0 to 1", () => {
    expect(refused({ ...box, gravity: "focal", focalX: "1.2", focalY: "0.5" })).toBe("gravity");
    expect(refused({ ...box, gravity: "focal", focalX: "", focalY: "0.5" })).toBe("gravity");
  });
});

describe("crop", () => {
  it("is drawn by a drag, in pixels of the original", () => {
    const region = cropFromDrag({ x: 0.1, y: 0.2 }, { x: 0.5, y: 0.7 }, image);
    expect(region).toEqual({ x: 102, y: 136, width: 410, height: 341 });
    // Any direction, and clamped to the image.
    expect(cropFromDrag({ x: 0.5, y: 0.7 }, { x: 0.1, y: 0.2 }, image)).toEqual(region);
    expect(cropFromDrag({ x: -1, y: 0.5 }, { x: 2, y: 2 }, image)).toEqual({ x: 0, y: 341, width: 1024, height: 341 });
    // A click draws nothing.
    expect(cropFromDrag({ x: 0.3, y: 0.3 }, { x: 0.3, y: 0.6 }, image)).toBeNull();

    const drawn = withCrop({ ...DEFAULT_VALUES, width: "400" }, region, image);
    expect(drawn).toMatchObject({ cropX: "102", cropY: "136", cropWidth: "410", cropHeight: "341" });
    expect(query(drawn)).toBe("crop=102,136,410,341&width=400&format=auto");
    expect(pathOf(drawn)).toBe(
      transformPath(image, { crop: { x: 102, y: 136, width: 410, height: 341 }, width: 400, format: "auto" }),
    );
    expect(query(withCrop(drawn, null, image))).toBe("width=400&format=auto");
  });

  it("keeps a focal point where it was on the original when the crop changes", () => {
    const focused = withFocus({ ...DEFAULT_VALUES, ...box }, { x: 0.5, y: 0.5 }, image);
    const cropped = withCrop(focused, { x: 0, y: 0, width: 1024, height: 341 }, image);
    expect(cropped).toMatchObject({ focalX: "0.5", focalY: "1" });
    expect(withCrop(cropped, null, image)).toMatchObject({ focalX: "0.5", focalY: "0.5" });
  });

  it("needs all four numbers, in range", () => {
    expect(refused({ cropX: "10", cropY: "10" })).toBe("crop");
    expect(refused({ cropX: "0", cropY: "0", cropWidth: "0", cropHeight: "10" })).toBe("crop");
    expect(refused({ cropX: "-1", cropY: "0", cropWidth: "10", cropHeight: "10" })).toBe("crop");
    expect(query({ cropX: "007", cropY: "0", cropWidth: "10", cropHeight: "10" })).toBe("crop=7,0,10,10&format=auto");
  });
});

describe("sharpen, background and palette", () => {
  it("sharpens in tenths, 0 for none", () => {
    expect(query({ sharpen: "0.25" })).toBe("sharpen=0.3&format=auto");
    expect(query({ sharpen: "10" })).toBe("sharpen=10&format=auto");
    expect(query({ sharpen: "0" })).toBe("format=auto");
    expect(refused({ sharpen: "0.1" })).toBe("sharpen");
    expect(refused({ sharpen: "10.1" })).toBe("sharpen");
  });

  it("writes the colour input's colour, with alpha below full opacity", () => {
    const on = { backgroundOn: true, backgroundColor: "#FF8800" };
    expect(query({ backgroundColor: "#ff8800" })).toBe("format=auto");
    expect(query(on)).toBe("background=ff8800&format=auto");
    expect(query({ ...on, backgroundOpacity: "50" })).toBe("background=ff880080&format=auto");
    expect(query({ ...on, backgroundOpacity: "0" })).toBe("background=ff880000&format=auto");
    expect(query({ ...on, backgroundOpacity: "100" })).toBe("background=ff8800&format=auto");
  });

  it("asks for a palette PNG", () => {
    expect(query({ palette: true, format: "png", quality: "60" })).toBe("quality=60&palette=1&format=png");
    expect(paletteMayApply({ ...DEFAULT_VALUES, format: "png" }, "jpeg")).toBe(true);
    expect(paletteMayApply({ ...DEFAULT_VALUES, format: "" }, "png")).toBe(true);
    expect(paletteMayApply({ ...DEFAULT_VALUES, format: "webp" }, "png")).toBe(false);
  });

  it("writes every control in the spec's order", () => {
    const all: BuilderValues = {
      ...DEFAULT_VALUES,
      format: "png",
      palette: true,
      quality: "70",
      backgroundOn: true,
      backgroundColor: "#102030",
      sharpen: "1.5",
      blur: "2",
      grayscale: true,
      rotate: "90",
      gravity: "focal",
      focalX: "0.1",
      focalY: "0.9",
      dpr: "2",
      ...box,
      cropX: "1",
      cropY: "2",
      cropWidth: "300",
      cropHeight: "400",
    };
    expect(query(all)).toBe(
      "crop=1,2,300,400&width=300&height=300&dpr=2&gravity=0.1,0.9&rotate=90&grayscale=1&blur=2&sharpen=1.5" +
        "&background=102030&quality=70&palette=1&format=png",
    );
  });
});

describe("the image's focus", () => {
  const focused = { ...image, focus: { x: 0.25, y: 0.4 } };
  const focusedQuery = (changes: Partial<BuilderValues>) => {
    const result = buildVariant(focused, { ...DEFAULT_VALUES, ...changes });
    if (!result.ok) throw new Error(`refused: ${result.param}: ${result.message}`);
    return result.variant;
  };

  it("fills a cover box when the form names no gravity, as the API mints it", () => {
    const variant = focusedQuery(box);
    expect(variant.canonicalQuery).toBe("width=300&height=300&gravity=0.25,0.4&format=auto");
    // Signed over that query: the URL is the one for gravity=0.25,0.4 stated outright.
    expect(variant.path).toBe(transformPath(image, { width: 300, height: 300, gravity: { x: 0.25, y: 0.4 }, format: "auto" }));
  });

  it("leaves every other choice as it is", () => {
    expect(focusedQuery({ ...box, gravity: "north" }).canonicalQuery).toBe("width=300&height=300&gravity=north&format=auto");
    expect(focusedQuery({ ...box, gravity: "focal", focalX: "0.1", focalY: "0.9" }).canonicalQuery).toBe(
      "width=300&height=300&gravity=0.1,0.9&format=auto",
    );
    expect(focusedQuery({ ...box, fit: "contain" }).canonicalQuery).toBe("width=300&height=300&fit=contain&format=auto");
    expect(focusedQuery({ width: "300" }).canonicalQuery).toBe("width=300&format=auto");
    expect(buildVariant({ ...image, focus: null }, { ...DEFAULT_VALUES, ...box })).toEqual(
      buildVariant(image, { ...DEFAULT_VALUES, ...box }),
    );
  });

  it("still refuses what the spec refuses, naming the field", () => {
    expect(buildVariant(focused, { ...DEFAULT_VALUES, ...box, width: "0" })).toMatchObject({ ok: false, param: "width" });
  });
});
