/** Variant URLs the UI shows: thumbnails, absolute URLs to copy, and `srcset` snippets. */
import { MAX_DIMENSION, transformPath, type ParamValues, type SigningImage, type TransformOptions } from "../transform";
import { focusedPath, type FocusedImage } from "./focus";
import { cropOf, sourceRegion, type Size } from "./region";

/** Gallery thumbnails: 320 pixels wide, WebP. */
export const THUMBNAIL: TransformOptions = { width: 320, format: "webp" };

export function thumbnailPath(image: SigningImage): string {
  return transformPath(image, THUMBNAIL);
}

/** The URL as anyone can use it: same origin as this page (the edge serves both). */
export function absoluteUrl(path: string, origin = window.location.origin): string {
  return new URL(path, origin).href;
}

/** Candidate widths of a responsive image. */
export const SRCSET_WIDTHS = [320, 640, 960, 1280, 1920, 2560] as const;

/** An image as the snippets need it: its key, its size and its focus (the API's rule applies). */
export interface SrcsetImage extends FocusedImage {
  readonly width: number;
  readonly height: number;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/** The source the resize sees: the `crop` region within the image, or the whole image. */
export function sourceSize(image: Size, params: ParamValues): Size {
  const parts = params.crop?.split(",") ?? [];
  const crop =
    parts.length === 4
      ? cropOf({ cropX: parts[0], cropY: parts[1], cropWidth: parts[2], cropHeight: parts[3] })
      : null;
  const region = sourceRegion(image, crop) ?? image;
  return { width: region.width, height: region.height };
}

function isQuarterTurn(params: ParamValues): boolean {
  const rotate = Number(params.rotate ?? 0);
  return rotate % 90 === 0 && rotate % 180 !== 0;
}

/**
 * Height over width of the output: the box for cover, fill and contain, else the source's;
 * swapped by a quarter turn (resizing comes before rotating).
 */
function outputAspect(source: Size, params: ParamValues, boxRatio: number | null): number {
  const boxed = params.fit === undefined || params.fit === "cover" || params.fit === "fill" || params.fit === "contain";
  const aspect = boxRatio !== null && boxed ? boxRatio : source.height / source.width;
  return isQuarterTurn(params) ? 1 / aspect : aspect;
}

/**
 * An `<img>` with `srcset` for the builder's settings at several widths (never wider than
 * the source, which is never enlarged). A set height scales with each width; `dpr` is left
 * out (the width descriptors are the output's real widths).
 */
export function srcsetSnippet(image: SrcsetImage, params: ParamValues, origin: string, alt = ""): string {
  const { width: _width, height: _height, fit, dpr: _dpr, ...rest } = params;
  const source = sourceSize(image, params);
  const ratio = params.width && params.height ? Number(params.height) / Number(params.width) : null;
  const upTo = Math.min(source.width, SRCSET_WIDTHS[SRCSET_WIDTHS.length - 1]);
  // A fixed box keeps its shape at each width, within the spec's largest height.
  const fits = (w: number) => ratio === null || Math.round(w * ratio) <= MAX_DIMENSION;
  const widths: number[] = [...SRCSET_WIDTHS.filter((w) => w < upTo), upTo].filter(fits);
  if (widths.length === 0) widths.push(Math.max(1, Math.floor(MAX_DIMENSION / ratio!)));
  const url = (w: number) => {
    const sized: ParamValues = { ...rest, width: String(w) };
    if (ratio !== null) {
      sized.height = String(Math.max(1, Math.round(w * ratio)));
      if (fit) sized.fit = fit;
    }
    return escapeAttribute(absoluteUrl(focusedPath(image, sized), origin));
  };
  const fallback = widths.find((w) => w >= 960) ?? widths[widths.length - 1];
  const aspect = outputAspect(source, params, ratio);
  const lines = [
    "<img",
    `  src="${url(fallback)}"`,
    `  srcset="${widths.map((w) => `${url(w)} ${w}w`).join(",\n          ")}"`,
    `  sizes="(min-width: ${fallback}px) ${fallback}px, 100vw"`,
    `  width="${fallback}" height="${Math.max(1, Math.round(fallback * aspect))}"`,
    `  alt="${escapeAttribute(alt)}" loading="lazy" decoding="async">`,
  ];
  return lines.join("\n");
}

/** The densities of the `x` srcset. */
export const DENSITIES = [1, 2, 3] as const;

/**
 * The output's size in CSS pixels at `dpr` 1 (what `width` and `height` ask for; the other
 * side from the source's shape), turned by a quarter turn. Null without a width or height.
 */
export function layoutSize(image: Size, params: ParamValues): Size | null {
  const asked = { width: Number(params.width ?? 0), height: Number(params.height ?? 0) };
  if (!(asked.width > 0) && !(asked.height > 0)) return null;
  const source = sourceSize(image, params);
  let size: Size;
  if (asked.width > 0 && asked.height > 0) {
    const fit = params.fit ?? "cover";
    if (fit === "inside" || fit === "outside") {
      const scales = [asked.width / source.width, asked.height / source.height];
      const scale = fit === "inside" ? Math.min(...scales) : Math.max(...scales);
      size = { width: source.width * scale, height: source.height * scale };
    } else {
      size = asked;
    }
  } else if (asked.width > 0) {
    size = { width: asked.width, height: (asked.width * source.height) / source.width };
  } else {
    size = { width: (asked.height * source.width) / source.height, height: asked.height };
  }
  const rounded = { width: Math.max(1, Math.round(size.width)), height: Math.max(1, Math.round(size.height)) };
  return isQuarterTurn(params) ? { width: rounded.height, height: rounded.width } : rounded;
}

/**
 * An `<img>` with `srcset` for the builder's settings at 1x, 2x and 3x (`dpr`): the same
 * layout size, sharper on denser screens. Null without a width or height (`dpr` needs one).
 */
export function densitySnippet(image: SrcsetImage, params: ParamValues, origin: string, alt = ""): string | null {
  const size = layoutSize(image, params);
  if (size === null) return null;
  const url = (dpr: number) => escapeAttribute(absoluteUrl(focusedPath(image, { ...params, dpr: String(dpr) }), origin));
  const lines = [
    "<img",
    `  src="${url(1)}"`,
    `  srcset="${DENSITIES.map((dpr) => `${url(dpr)} ${dpr}x`).join(",\n          ")}"`,
    `  width="${size.width}" height="${size.height}"`,
    `  alt="${escapeAttribute(alt)}" loading="lazy" decoding="async">`,
  ];
  return lines.join("\n");
}

/** The widest the crop and focal point picker shows the original. */
export const PICKER_WIDTH = 800;

/** The original as the picker shows it: its shape, at most {@link PICKER_WIDTH} wide, in the browser's best format. */
export function pickerPath(image: SrcsetImage): string {
  return transformPath(image, { width: Math.min(image.width, PICKER_WIDTH), format: "auto" });
}
