/** Variant URLs the UI shows: thumbnails, absolute URLs to copy, and `srcset` snippets. */
import { MAX_DIMENSION, transformPath, type ParamValues, type SigningImage, type TransformOptions } from "../transform";

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

export interface SrcsetImage extends SigningImage {
  readonly width: number;
  readonly height: number;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/**
 * Height over width of the output: the box for cover, fill and contain, else the image's;
 * swapped by a quarter turn (resizing comes before rotating).
 */
function outputAspect(image: SrcsetImage, params: ParamValues, boxRatio: number | null): number {
  const boxed = params.fit === undefined || params.fit === "cover" || params.fit === "fill" || params.fit === "contain";
  const aspect = boxRatio !== null && boxed ? boxRatio : image.height / image.width;
  const rotate = Number(params.rotate ?? 0);
  return rotate % 90 === 0 && rotate % 180 !== 0 ? 1 / aspect : aspect;
}

/**
 * An `<img>` with `srcset` for the builder's settings at several widths (never wider than
 * the original, which is never enlarged). A set height scales with each width.
 */
export function srcsetSnippet(image: SrcsetImage, params: ParamValues, origin: string, alt = ""): string {
  const { width: _width, height: _height, fit, ...rest } = params;
  const ratio = params.width && params.height ? Number(params.height) / Number(params.width) : null;
  const upTo = Math.min(image.width, SRCSET_WIDTHS[SRCSET_WIDTHS.length - 1]);
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
    return escapeAttribute(absoluteUrl(transformPath(image, sized), origin));
  };
  const fallback = widths.find((w) => w >= 960) ?? widths[widths.length - 1];
  const aspect = outputAspect(image, params, ratio);
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
