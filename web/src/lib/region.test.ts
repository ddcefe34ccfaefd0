import { describe, expect, it } from "vitest";
import { DEFAULT_VALUES } from "./builder";
import { adjustCrop, cropOf, cropStep, focalPoint, nudgeFocus, sourceRegion, thousandths } from "./region";

const image = { width: 1024, height: 682 };

describe("the picker's geometry", () => {
  it("rounds focal coordinates to 0.001, written shortest", () => {
    expect(thousandths(0.25)).toBe("0.25");
    expect(thousandths(0.12345)).toBe("0.123");
    expect(thousandths(0.9996)).toBe("1");
    expect(thousandths(-0.1)).toBe("0");
    expect(thousandths(0.0004)).toBe("0");
    expect(thousandths(0.001)).toBe("0.001");
  });

  it("reads the crop fields, and intersects the region with the image", () => {
    const crop = cropOf({ cropX: "1000", cropY: "600", cropWidth: "100", cropHeight: "100" });
    expect(crop).toEqual({ x: 1000, y: 600, width: 100, height: 100 });
    expect(sourceRegion(image, crop)).toEqual({ x: 1000, y: 600, width: 24, height: 82 });
    expect(sourceRegion(image, { x: 2000, y: 0, width: 10, height: 10 })).toBeNull();
    expect(sourceRegion(image, null)).toEqual({ x: 0, y: 0, ...image });
    expect(cropOf({ cropX: "1", cropY: "", cropWidth: "3", cropHeight: "4" })).toBeNull();
    expect(cropOf({ cropX: "1", cropY: "2", cropWidth: "0", cropHeight: "4" })).toBeNull();
  });

  it("draws the focal point where it lies on the original", () => {
    const values = { ...DEFAULT_VALUES, focalX: "0.5", focalY: "0.25", cropX: "0", cropY: "0", cropWidth: "512", cropHeight: "682" };
    expect(focalPoint(values, image)).toEqual({ x: 0.25, y: 0.25 });
    expect(focalPoint({ ...values, focalX: "" }, image)).toBeNull();
  });

  it("moves the focal point with the arrow keys", () => {
    const moved = nudgeFocus(DEFAULT_VALUES, 0.01, -0.1);
    expect(moved).toMatchObject({ gravity: "focal", focalX: "0.51", focalY: "0.4" });
    expect(nudgeFocus({ ...moved, focalX: "0.995" }, 0.01, 0)).toMatchObject({ focalX: "1" });
  });

  it("moves and resizes the crop region with the arrow keys, within the image", () => {
    expect(cropStep(image)).toEqual({ width: 10, height: 7 });
    expect(cropStep({ width: 20, height: 20 })).toEqual({ width: 1, height: 1 });
    const whole = adjustCrop(null, image, { dw: -10, dh: -7 });
    expect(whole).toEqual({ x: 0, y: 0, width: 1014, height: 675 });
    expect(adjustCrop(whole, image, { dx: 50 })).toEqual({ x: 10, y: 0, width: 1014, height: 675 });
    expect(adjustCrop({ x: 5, y: 5, width: 1, height: 1 }, image, { dw: -10, dy: -10 })).toEqual({
      x: 5,
      y: 0,
      width: 1,
      height: 1,
    });
  });
});
