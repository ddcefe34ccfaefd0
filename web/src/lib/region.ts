/**
 * The geometry of the crop and focal point picker: points clicked or dragged on the shown
 * original (fractions of its width and height) to `crop` regions in pixels of the original
 * and to focal points `X,Y` (fractions of the source after the crop, as the spec defines
 * them), and back, for drawing them over the image.
 */
import type { BuilderValues } from "./builder";

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** A rectangle in pixels of the original. */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A point as fractions of the original's width and height (0 to 1). */
export interface Point {
  readonly x: number;
  readonly y: number;
}

const WHOLE = /^[0-9]+$/;

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export function clamp01(value: number): number {
  return Number.isFinite(value) ? clamp(value, 0, 1) : 0;
}

/** A fraction rounded to 0.001 (as the spec rounds focal points), written shortest: `0.25`, `1`. */
export function thousandths(value: number): string {
  return String(Math.round(clamp01(value) * 1000) / 1000);
}

/** The crop fields as a region, or null when they are not four whole numbers with an area. */
export function cropOf(values: Pick<BuilderValues, "cropX" | "cropY" | "cropWidth" | "cropHeight">): Region | null {
  const parts = [values.cropX, values.cropY, values.cropWidth, values.cropHeight].map((part) => part.trim());
  if (!parts.every((part) => WHOLE.test(part))) return null;
  const [x, y, width, height] = parts.map(Number);
  return width >= 1 && height >= 1 ? { x, y, width, height } : null;
}

/**
 * The source that resizing sees: the crop region intersected with the image (the whole
 * image without a crop), or null when the region lies outside it (`crop_outside`).
 */
export function sourceRegion(image: Size, crop: Region | null): Region | null {
  if (crop === null) return { x: 0, y: 0, width: image.width, height: image.height };
  const x = Math.min(crop.x, image.width);
  const y = Math.min(crop.y, image.height);
  const width = Math.min(crop.x + crop.width, image.width) - x;
  const height = Math.min(crop.y + crop.height, image.height) - y;
  return width >= 1 && height >= 1 ? { x, y, width, height } : null;
}

/** The focal point `X,Y` (fractions of the source after `crop`, to 0.001) of a point of the original. */
export function focalFromPoint(point: Point, image: Size, crop: Region | null): { focalX: string; focalY: string } {
  const source = sourceRegion(image, crop) ?? sourceRegion(image, null)!;
  return {
    focalX: thousandths((clamp01(point.x) * image.width - source.x) / source.width),
    focalY: thousandths((clamp01(point.y) * image.height - source.y) / source.height),
  };
}

/** Where the form's focal point lies on the original (fractions), or null when it is not a point. */
export function focalPoint(values: BuilderValues, image: Size): Point | null {
  const fx = values.focalX.trim();
  const fy = values.focalY.trim();
  if (fx === "" || fy === "" || !Number.isFinite(Number(fx)) || !Number.isFinite(Number(fy))) return null;
  const source = sourceRegion(image, cropOf(values)) ?? sourceRegion(image, null)!;
  return {
    x: (source.x + clamp01(Number(fx)) * source.width) / image.width,
    y: (source.y + clamp01(Number(fy)) * source.height) / image.height,
  };
}

/**
 * The crop region, in pixels of the original, of a drag between two points of the shown
 * original (fractions, clamped to the image); null when it has no area.
 */
export function cropFromDrag(from: Point, to: Point, image: Size): Region | null {
  const left = Math.round(clamp01(Math.min(from.x, to.x)) * image.width);
  const right = Math.round(clamp01(Math.max(from.x, to.x)) * image.width);
  const top = Math.round(clamp01(Math.min(from.y, to.y)) * image.height);
  const bottom = Math.round(clamp01(Math.max(from.y, to.y)) * image.height);
  if (right - left < 1 || bottom - top < 1) return null;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * The form with this crop region (null: none). A focal point keeps its place on the
 * original (within the new source), since the spec measures it after the crop.
 */
export function withCrop(values: BuilderValues, crop: Region | null, image: Size): BuilderValues {
  const fields = crop
    ? { cropX: String(crop.x), cropY: String(crop.y), cropWidth: String(crop.width), cropHeight: String(crop.height) }
    : { cropX: "", cropY: "", cropWidth: "", cropHeight: "" };
  const point = values.gravity === "focal" ? focalPoint(values, image) : null;
  const next = { ...values, ...fields };
  return point ? { ...next, ...focalFromPoint(point, image, crop) } : next;
}

/** The form with its focal point at a point of the original: `gravity` becomes that point. */
export function withFocus(values: BuilderValues, point: Point, image: Size): BuilderValues {
  return { ...values, gravity: "focal", ...focalFromPoint(point, image, cropOf(values)) };
}

/** The form's focal point moved by fractions of the source (keyboard arrows). */
export function nudgeFocus(values: BuilderValues, dx: number, dy: number): BuilderValues {
  const x = values.gravity === "focal" ? Number(values.focalX) : 0.5;
  const y = values.gravity === "focal" ? Number(values.focalY) : 0.5;
  return {
    ...values,
    gravity: "focal",
    focalX: thousandths((Number.isFinite(x) ? x : 0.5) + dx),
    focalY: thousandths((Number.isFinite(y) ? y : 0.5) + dy),
  };
}

/** The keyboard's step on the original: 1% of a side, at least a pixel. */
export function cropStep(image: Size): Size {
  return { width: Math.max(1, Math.round(image.width / 100)), height: Math.max(1, Math.round(image.height / 100)) };
}

/**
 * A crop region moved by `dx`, `dy` (pixels) and grown by `dw`, `dh`, kept within the image
 * and at least a pixel in each direction. Without a region, the whole image is the start.
 */
export function adjustCrop(
  crop: Region | null,
  image: Size,
  change: { dx?: number; dy?: number; dw?: number; dh?: number },
): Region {
  const start = sourceRegion(image, crop) ?? sourceRegion(image, null)!;
  const width = clamp(start.width + (change.dw ?? 0), 1, image.width);
  const height = clamp(start.height + (change.dh ?? 0), 1, image.height);
  return {
    x: clamp(start.x + (change.dx ?? 0), 0, image.width - width),
    y: clamp(start.y + (change.dy ?? 0), 0, image.height - height),
    width,
    height,
  };
}
