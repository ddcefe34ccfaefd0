/**
 * What a thumbnail shows until it loads: its box (from the API's `aspect_ratio`), its
 * dominant colour, and its ThumbHash decoded to a small PNG data URL. `data:` images are
 * allowed by the page's Content-Security-Policy; no request is made for them.
 */
import { thumbHashToDataURL } from "thumbhash";
import type { Size } from "./region";

/** The ThumbHash (base64, as the API gives it) as a PNG data URL; null when absent or not one. */
export function thumbhashDataUrl(base64: string | null | undefined): string | null {
  if (!base64) return null;
  try {
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    // A hash has a header of 5 bytes at least; thumbhash reads past a shorter one.
    return bytes.length >= 5 ? thumbHashToDataURL(bytes) : null;
  } catch {
    // Not base64, or not a hash: the dominant colour alone stands in.
    return null;
  }
}

/** A `#rrggbb` colour as the API writes it, else null (never passed on unchecked). */
export function placeholderColour(colour: string | null | undefined): string | null {
  return colour && /^#[0-9a-fA-F]{6}$/.test(colour) ? colour : null;
}

/**
 * The box of an image `width` wide (never wider than the image): its height from the
 * image's aspect ratio, at least a pixel.
 */
export function boxOf(image: { width: number; aspect_ratio: number }, width: number): Size {
  const shown = Math.max(1, Math.min(width, image.width));
  const ratio = image.aspect_ratio > 0 && Number.isFinite(image.aspect_ratio) ? image.aspect_ratio : 1;
  return { width: shown, height: Math.max(1, Math.round(shown / ratio)) };
}
