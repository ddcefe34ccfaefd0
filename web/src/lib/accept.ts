/**
 * The `Accept` header this browser sends for images, for the preview's `fetch()`: a fetch
 * sends `Accept: *\/*`, where an `<img>` lists the image formats the browser decodes, which
 * `format=auto` chooses by. So the preview asks as an `<img>` would, and reports the format
 * it got: the one a page showing this URL gets in this browser.
 */

/** A 1×1 AVIF and a 1×1 WebP (rendered by imgedge itself): decoding them tells what the browser takes. */
const AVIF_PROBE =
  "AAAAHGZ0eXBhdmlmAAAAAG1pZjFhdmlmbWlhZgAAANZtZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAAAAAAACJpbG9jAAAAAERAAAEAAQAAAAAA+gABAAAAAAAAACAAAAAjaWluZgAAAAAAAQAAABVpbmZlAgAAAAABAABhdjAxAAAAAA5waXRtAAAAAAABAAAAVmlwcnAAAAA4aXBjbwAAAAxhdjFDgQAMAAAAABRpc3BlAAAAAAAAAAEAAAABAAAAEHBpeGkAAAAAAwgICAAAABZpcG1hAAAAAAAAAAEAAQOBAgMAAAAobWRhdBIACggYAAaICGg0IDISHYeHhZ3ccccCwAAAkDWOPC3g";
const WEBP_PROBE = "UklGRiYAAABXRUJQVlA4IBoAAAAwAQCdASoBAAEABUB8JZwAA3AA/txRtKEAAA==";

export const PROBES: Readonly<Record<"avif" | "webp", string>> = { avif: AVIF_PROBE, webp: WEBP_PROBE };

export interface ImageSupport {
  readonly avif: boolean;
  readonly webp: boolean;
}

/** An image `Accept` header for these formats, as browsers write theirs (AVIF, WebP, then anything). */
export function imageAcceptHeader(support: ImageSupport): string {
  return [support.avif ? "image/avif" : null, support.webp ? "image/webp" : null, "image/*", "*/*;q=0.8"]
    .filter((type) => type !== null)
    .join(",");
}

export function probeBytes(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

async function decodes(type: string, base64: string): Promise<boolean> {
  if (typeof createImageBitmap !== "function") return false;
  try {
    const bitmap = await createImageBitmap(new Blob([probeBytes(base64)], { type }));
    bitmap.close();
    return true;
  } catch {
    return false;
  }
}

let detected: Promise<string> | undefined;

/** This browser's image `Accept` header (found once, by decoding the probes). */
export function imageAccept(): Promise<string> {
  detected ??= Promise.all([decodes("image/avif", AVIF_PROBE), decodes("image/webp", WEBP_PROBE)]).then(
    ([avif, webp]) => imageAcceptHeader({ avif, webp }),
  );
  return detected;
}
