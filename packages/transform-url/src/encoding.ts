/**
 * Byte-level encodings of the spec: form-decoding of query components (`+` is a space,
 * `%XX` in either hex case, UTF-8) and the canonical percent-encoding.
 */

const encoder = new TextEncoder();
// `fatal` rejects what a strict UTF-8 decoder rejects (overlong forms, surrogates, truncated
// sequences); `ignoreBOM` keeps a leading U+FEFF, which the default would strip.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Form-decodes one raw name or value of a query: `+` is a space, `%XX` in either hex case,
 * other characters stand for their UTF-8 bytes. Returns `null` for a `%` not followed by
 * two hex digits, or bytes that are not UTF-8.
 */
export function formDecode(raw: string): string | null {
  const input = encoder.encode(raw);
  const out = new Uint8Array(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === 0x25 /* % */) {
      const hi = hexValue(input[i + 1]);
      const lo = hexValue(input[i + 2]);
      if (hi < 0 || lo < 0) return null;
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else {
      out[n++] = c === 0x2b /* + */ ? 0x20 : c;
    }
  }
  try {
    return decoder.decode(out.subarray(0, n));
  } catch {
    return null;
  }
}

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e
  );
}

/**
 * The spec's percent-encoding: the UTF-8 bytes, `A-Z a-z 0-9 - . _ ~` literal, every other
 * byte `%XX` in uppercase hex (a space is `%20`, never `+`; unlike `encodeURIComponent`,
 * `! ' ( ) *` are escaped too).
 */
export function percentEncode(text: string): string {
  let out = "";
  for (const b of encoder.encode(text)) {
    out += isUnreserved(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The number of Unicode scalar values of `text` (not UTF-16 units). */
export function scalarLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
