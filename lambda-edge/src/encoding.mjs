// Byte-level encodings of the spec: form-decoding of query components (`+` is a space,
// `%XX` in either hex case) and the canonical percent-encoding. Both work on UTF-8 bytes,
// as the Rust parser does on the raw query's bytes, so that a non-ASCII character sent
// unescaped is handled exactly like its escapes.

const utf8Encoder = new TextEncoder();
// `fatal` rejects what Rust's String::from_utf8 rejects (overlong forms, surrogates,
// truncated sequences); `ignoreBOM` keeps a leading U+FEFF, which the default would strip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** @param {number | undefined} c a byte, or nothing past the end */
function hexValue(c) {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * The form-decoded bytes of one raw query component, or `null` when it holds a `%` that
 * is not followed by two hexadecimal digits.
 * @param {string} raw
 * @returns {Uint8Array | null}
 */
export function formDecode(raw) {
  const input = utf8Encoder.encode(raw);
  const out = new Uint8Array(input.length);
  let n = 0;
  // One iterator, so that an escape consumes its two digits.
  const bytes = input[Symbol.iterator]();
  for (const c of bytes) {
    if (c === 0x25 /* % */) {
      const hi = hexValue(bytes.next().value);
      const lo = hexValue(bytes.next().value);
      if (hi < 0 || lo < 0) return null;
      out[n++] = (hi << 4) | lo;
    } else {
      out[n++] = c === 0x2b /* + */ ? 0x20 : c;
    }
  }
  return out.subarray(0, n);
}

/**
 * The bytes as a string when they are all ASCII, else `null` (no accepted keyword or
 * number has other bytes).
 * @param {Uint8Array} bytes
 * @returns {string | null}
 */
export function asciiOf(bytes) {
  let s = '';
  for (const b of bytes) {
    if (b > 0x7f) return null;
    s += String.fromCharCode(b);
  }
  return s;
}

/**
 * The bytes as text when they are valid UTF-8, else `null`.
 * @param {Uint8Array} bytes
 * @returns {string | null}
 */
export function utf8Of(bytes) {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** @param {number} b */
function isUnreserved(b) {
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
 * The spec's percent-encoding: the UTF-8 bytes, `A-Z a-z 0-9 - . _ ~` literal, every
 * other byte `%XX` in uppercase hex (so a space is `%20`, never `+`; `encodeURIComponent`
 * would leave `! ' ( ) *` alone, which is not canonical).
 * @param {string} text
 */
export function percentEncode(text) {
  let out = '';
  for (const b of utf8Encoder.encode(text)) {
    out += isUnreserved(b)
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
