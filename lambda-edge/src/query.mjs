// The transform query: parsing by the spec's rules, and its one canonical form. A port of
// the Rust parser (src/url/spec.rs); the shared vectors prove that both agree.

import { asciiOf, formDecode, percentEncode, utf8Of } from './encoding.mjs';
import { UrlError } from './errors.mjs';
import { paramNamed } from './params.mjs';

/** @typedef {import('./params.mjs').Param} Param */

/**
 * A parsed query.
 * @typedef {object} ParsedQuery
 * @property {string} canonicalQuery the canonical query (empty for the original)
 * @property {boolean} isCanonical whether the raw query, once unknown pairs and empty
 *   pieces are dropped, is byte for byte the canonical query (else: 301)
 */

/**
 * The transform, with only the values that differ from the defaults.
 * @typedef {object} Spec
 * @property {number} [width]
 * @property {number} [height]
 * @property {string} fit
 * @property {number} rotate degrees, 0..=359
 * @property {boolean} flip
 * @property {boolean} mirror
 * @property {boolean} grayscale
 * @property {number} blurTenths sigma in tenths, 0 (none) or 3..=1000
 * @property {number} quality
 * @property {string} [format]
 * @property {string} [watermark] NFC text
 */

const FITS = new Set(['cover', 'contain', 'fill', 'inside', 'outside']);
/** @type {ReadonlyMap<string, string>} accepted spelling → canonical spelling */
const FORMATS = new Map([
  ['jpeg', 'jpeg'],
  ['jpg', 'jpeg'],
  ['png', 'png'],
  ['webp', 'webp'],
  ['avif', 'avif'],
]);
/** @type {ReadonlyMap<string, boolean>} */
const BOOLEANS = new Map([
  ['1', true],
  ['true', true],
  ['0', false],
  ['false', false],
]);
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const DEFAULT_QUALITY = 80;
const MAX_WATERMARK_CHARS = 64;

/**
 * The parameter a raw name decodes to, if it is exactly one of the table's names. A name
 * with a broken escape is not one of them: it is dropped like any unknown name.
 * @param {string} rawName
 * @returns {Param | undefined}
 */
function knownName(rawName) {
  const decoded = formDecode(rawName);
  const name = decoded && asciiOf(decoded);
  return name === null ? undefined : paramNamed(name);
}

/**
 * The known `name=value` pieces of a raw query, in query order; empty pieces and
 * unknown names dropped (what CloudFront's allow-list forwards).
 * @param {string} rawQuery
 * @returns {{ param: Param, piece: string, value: string }[]}
 */
export function knownPairs(rawQuery) {
  const pairs = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const [name, value] = eq < 0 ? [piece, ''] : [piece.slice(0, eq), piece.slice(eq + 1)];
    const param = knownName(name);
    if (param !== undefined) pairs.push({ param, piece, value });
  }
  return pairs;
}

/**
 * `^-?[0-9]+$` after decoding, as a bigint within a signed 64-bit integer.
 * @param {Param} param
 * @param {string} raw
 */
function parseInteger(param, raw) {
  const decoded = formDecode(raw);
  const text = decoded && asciiOf(decoded);
  if (text === null || !/^-?[0-9]+$/.test(text)) throw UrlError.badValue(param);
  const value = BigInt(text);
  if (value < I64_MIN || value > I64_MAX) throw UrlError.outOfRange(param);
  return value;
}

/**
 * An integer within `min..=max`.
 * @param {Param} param
 * @param {string} raw
 * @param {number} min
 * @param {number} max
 */
function parseBounded(param, raw, min, max) {
  const value = parseInteger(param, raw);
  if (value < BigInt(min) || value > BigInt(max)) throw UrlError.outOfRange(param);
  return Number(value);
}

/**
 * A keyword (fit, format, boolean) from its table.
 * @template T
 * @param {Param} param
 * @param {string} raw
 * @param {(word: string) => T | undefined} lookup
 * @returns {T}
 */
function parseKeyword(param, raw, lookup) {
  const decoded = formDecode(raw);
  const word = decoded && asciiOf(decoded);
  const value = word === null ? undefined : lookup(word);
  if (value === undefined) throw UrlError.badValue(param);
  return value;
}

/**
 * `^-?[0-9]+(\.[0-9]+)?$` after decoding, rounded half-up to tenths on its digits (no
 * floating point: `2.45` is 2.5, as the spec says, not 2.4).
 * @param {string} raw
 * @returns {number} tenths: 0 (no blur) or 3..=1000
 */
function parseBlur(raw) {
  const decoded = formDecode(raw);
  const text = decoded && asciiOf(decoded);
  const match = text === null ? null : /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text);
  if (match === null) throw UrlError.badValue('blur');
  const [, sign, int, frac = ''] = match;
  if (sign === '-') throw UrlError.outOfRange('blur');
  // The integer part saturates: anything above 100 is out of range anyway.
  const whole = Math.min(Number(int), 10_000);
  const tenthsDigit = Number(frac[0] ?? '0');
  const roundUp = Number(frac[1] ?? '0') >= 5 ? 1 : 0;
  const tenths = whole * 10 + tenthsDigit + roundUp;
  if (tenths === 0) return 0;
  if (tenths < 3 || tenths > 1000) throw UrlError.outOfRange('blur');
  return tenths;
}

/**
 * NFC text of 1..=64 scalar values without control characters; `undefined` when empty
 * (an empty watermark is no watermark).
 * @param {string} raw
 */
function parseWatermark(raw) {
  const decoded = formDecode(raw);
  const utf8 = decoded && utf8Of(decoded);
  if (utf8 === null) throw UrlError.badValue('watermarkText');
  const text = utf8.normalize('NFC');
  // General category Cc, as Rust's char::is_control.
  if (/[\u0000-\u001f\u007f-\u009f]/u.test(text)) throw UrlError.badValue('watermarkText');
  if (text === '') return undefined;
  if ([...text].length > MAX_WATERMARK_CHARS) throw UrlError.outOfRange('watermarkText');
  return text;
}

/** @param {number} tenths 3..=1000 */
function formatBlur(tenths) {
  const whole = Math.floor(tenths / 10);
  const frac = tenths % 10;
  return frac === 0 ? `${whole}` : `${whole}.${frac}`;
}

/**
 * The canonical query of a spec: `name=value` pairs in table order joined by `&`,
 * defaults left out.
 * @param {Spec} spec
 */
export function canonicalQuery(spec) {
  /** @type {string[]} */
  const pairs = [];
  if (spec.width !== undefined) pairs.push(`width=${spec.width}`);
  if (spec.height !== undefined) pairs.push(`height=${spec.height}`);
  // A fit means something only with both dimensions, so only then is it kept.
  if (spec.width !== undefined && spec.height !== undefined && spec.fit !== 'cover') {
    pairs.push(`fit=${spec.fit}`);
  }
  if (spec.rotate !== 0) pairs.push(`rotate=${spec.rotate}`);
  if (spec.flip) pairs.push('flip=1');
  if (spec.mirror) pairs.push('mirror=1');
  if (spec.grayscale) pairs.push('grayscale=1');
  if (spec.blurTenths !== 0) pairs.push(`blur=${formatBlur(spec.blurTenths)}`);
  if (spec.quality !== DEFAULT_QUALITY) pairs.push(`quality=${spec.quality}`);
  if (spec.format !== undefined) pairs.push(`format=${spec.format}`);
  if (spec.watermark !== undefined) pairs.push(`watermarkText=${percentEncode(spec.watermark)}`);
  return pairs.join('&');
}

/**
 * Parses a raw query (without `?`) by the spec's rules: unknown pairs are dropped first,
 * then a known name given twice is `duplicate_param`, then values are checked in query
 * order (the first failure wins).
 * @param {string} rawQuery
 * @returns {ParsedQuery}
 * @throws {UrlError}
 */
export function parseQuery(rawQuery) {
  const pairs = knownPairs(rawQuery);
  /** @type {Set<Param>} */
  const seen = new Set();
  for (const { param } of pairs) {
    if (seen.has(param)) throw UrlError.duplicate(param);
    seen.add(param);
  }

  /** @type {Spec} */
  const spec = {
    fit: 'cover',
    rotate: 0,
    flip: false,
    mirror: false,
    grayscale: false,
    blurTenths: 0,
    quality: DEFAULT_QUALITY,
  };
  for (const { param, value } of pairs) {
    switch (param) {
      case 'width':
      case 'height':
        spec[param] = parseBounded(param, value, 1, 8192);
        break;
      case 'fit':
        spec.fit = parseKeyword(param, value, (w) => (FITS.has(w) ? w : undefined));
        break;
      case 'rotate':
        spec.rotate = Number(((parseInteger(param, value) % 360n) + 360n) % 360n);
        break;
      case 'flip':
      case 'mirror':
      case 'grayscale':
        spec[param] = parseKeyword(param, value, (w) => BOOLEANS.get(w));
        break;
      case 'blur':
        spec.blurTenths = parseBlur(value);
        break;
      case 'quality':
        spec.quality = parseBounded(param, value, 1, 100);
        break;
      case 'format':
        spec.format = parseKeyword(param, value, (w) => FORMATS.get(w));
        break;
      case 'watermarkText':
        spec.watermark = parseWatermark(value);
        break;
      default:
        throw new Error(`unhandled parameter ${/** @type {never} */ (param)}`);
    }
  }

  const canonical = canonicalQuery(spec);
  const filtered = pairs.map(({ piece }) => piece).join('&');
  return { canonicalQuery: canonical, isCanonical: filtered === canonical };
}

