/**
 * The transform query: parsing a raw query by the spec's rules into a typed spec, and the
 * one canonical query of a spec or of a builder's values.
 */
import { formDecode, percentEncode, scalarLength } from "./encoding.js";
import { UrlError } from "./errors.js";
import {
  DEFAULT_QUALITY,
  FITS,
  GRAVITY_WORDS,
  MAX_CROP_OFFSET,
  MAX_CROP_SIZE,
  MAX_DIMENSION,
  MAX_WATERMARK_CHARS,
  PARAM_NAMES,
  isParamName,
  type Crop,
  type Fit,
  type FocalPoint,
  type Format,
  type Gravity,
  type GravityWord,
  type ParamName,
} from "./params.js";

/**
 * A valid transform, as the canonical query says it: what the transformer renders. Values
 * the canonical form leaves out are at their defaults (so `fit` is `cover` unless both
 * `width` and `height` are given, `dpr` is 1 without a `width` or `height`, `gravity` is
 * `center` unless the effective fit is `cover` with both, and a focal point of `0.5,0.5` is
 * `center`). Decimals are exact multiples of 0.1 (`dpr`, `blur`, `sharpen`) or 0.001 (a
 * focal point's coordinates).
 */
export interface TransformSpec {
  readonly crop?: Crop;
  readonly width?: number;
  readonly height?: number;
  /** 1..=4. */
  readonly dpr: number;
  readonly fit: Fit;
  readonly gravity: Gravity;
  /** Degrees, 0..=359. */
  readonly rotate: number;
  readonly flip: boolean;
  readonly mirror: boolean;
  readonly grayscale: boolean;
  /** Sigma: 0 (none) or 0.3..=100. */
  readonly blur: number;
  /** Sigma: 0 (none) or 0.3..=10. */
  readonly sharpen: number;
  /** Lowercase hex, `rrggbb` or `rrggbbaa` (never ending in `ff`). */
  readonly background?: string;
  /** 1..=100. */
  readonly quality: number;
  readonly palette: boolean;
  /** Not given: the original's format (or `png`/`jpeg` for other originals). */
  readonly format?: Format;
  /** NFC text of 1..=64 scalar values. */
  readonly watermarkText?: string;
}

/** A valid query, parsed. */
export interface ParsedQuery {
  readonly spec: TransformSpec;
  /** The canonical query (no leading `?`; empty for the original). */
  readonly canonicalQuery: string;
  /**
   * Whether the raw query, once unknown parameters and empty pieces are dropped, is byte
   * for byte the canonical query (else the answer is a 301 to the canonical URL).
   */
  readonly isCanonical: boolean;
}

// --- values ------------------------------------------------------------------------------

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;
const COLOUR = /^[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?$/;
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ["1", true],
  ["true", true],
  ["0", false],
  ["false", false],
]);
const FORMAT_SPELLINGS: ReadonlyMap<string, Format> = new Map<string, Format>([
  ["auto", "auto"],
  ["jpeg", "jpeg"],
  ["jpg", "jpeg"],
  ["png", "png"],
  ["webp", "webp"],
  ["avif", "avif"],
]);
const GRAVITY_SPELLINGS: ReadonlyMap<string, GravityWord> = new Map<string, GravityWord>([
  ...GRAVITY_WORDS.map((word): [string, GravityWord] => [word, word]),
  ["centre", "center"],
]);

/** A decimal `-?[0-9]+(\.[0-9]+)?`, rounded half-up on its digits to `places` fractional digits. */
interface Decimal {
  readonly negative: boolean;
  /** The rounded magnitude in units of 10^-places. */
  readonly units: bigint;
}

function decimalOf(text: string, places: number): Decimal | null {
  const match = DECIMAL.exec(text);
  if (match === null) return null;
  const [, sign, whole = "0", fraction = ""] = match;
  const scale = 10n ** BigInt(places);
  const kept = fraction.slice(0, places).padEnd(places, "0");
  let units = BigInt(whole) * scale + (places > 0 ? BigInt(kept) : 0n);
  if ((fraction[places] ?? "0") >= "5") units += 1n;
  return { negative: sign === "-", units };
}

/** The shortest decimal of `units` × 10^-places: `2`, `2.5`, `0.25`, `0.001`. */
function decimalText(units: number, places: number): string {
  const scale = 10 ** places;
  const whole = Math.floor(units / scale);
  const fraction = units % scale;
  if (fraction === 0) return `${whole}`;
  return `${whole}.${String(fraction).padStart(places, "0").replace(/0+$/, "")}`;
}

/** `-?[0-9]+` as a signed 64-bit integer (leading zeros accepted). */
function integer(param: ParamName, text: string): bigint {
  if (!INTEGER.test(text)) throw UrlError.badValue(param);
  const value = BigInt(text);
  if (value < I64_MIN || value > I64_MAX) throw UrlError.outOfRange(param);
  return value;
}

function bounded(param: ParamName, text: string, min: number, max: number): number {
  const value = integer(param, text);
  if (value < BigInt(min) || value > BigInt(max)) throw UrlError.outOfRange(param);
  return Number(value);
}

/**
 * A decimal in tenths (`dpr`, `blur`, `sharpen`): 0 or `min..=max` tenths after rounding.
 * `allowZero` lets 0 through below `min` (a sigma of 0 is "none").
 */
function tenths(param: ParamName, text: string, min: number, max: number, allowZero: boolean): number {
  const decimal = decimalOf(text, 1);
  if (decimal === null) throw UrlError.badValue(param);
  if (decimal.negative) throw UrlError.outOfRange(param);
  const { units } = decimal;
  if (allowZero && units === 0n) return 0;
  if (units < BigInt(min) || units > BigInt(max)) throw UrlError.outOfRange(param);
  return Number(units);
}

function keyword<T>(param: ParamName, text: string, lookup: (word: string) => T | undefined): T {
  const value = lookup(text);
  if (value === undefined) throw UrlError.badValue(param);
  return value;
}

/** `x,y,w,h`: the whole shape first (bad_value), then the ranges (out_of_range). */
function crop(text: string): Crop {
  const parts = text.split(",");
  if (parts.length !== 4 || !parts.every((part) => INTEGER.test(part))) throw UrlError.badValue("crop");
  const [x, y, w, h] = parts.map((part) => BigInt(part)) as [bigint, bigint, bigint, bigint];
  const negative = parts.some((part) => part.startsWith("-"));
  const offsets = x <= BigInt(MAX_CROP_OFFSET) && y <= BigInt(MAX_CROP_OFFSET);
  const sizes = w >= 1n && w <= BigInt(MAX_CROP_SIZE) && h >= 1n && h <= BigInt(MAX_CROP_SIZE);
  if (negative || !offsets || !sizes) throw UrlError.outOfRange("crop");
  return { x: Number(x), y: Number(y), width: Number(w), height: Number(h) };
}

/** A focal point in thousandths of the source's width and height. */
interface Point {
  readonly x: number;
  readonly y: number;
}

/** A word, or a focal point `X,Y` (whole shape first, then the ranges). */
function gravity(text: string): GravityWord | Point {
  const word = GRAVITY_SPELLINGS.get(text);
  if (word !== undefined) return word;
  const parts = text.split(",");
  const coordinates = parts.length === 2 ? parts.map((part) => decimalOf(part, 3)) : [];
  const [x, y] = coordinates;
  if (x === undefined || y === undefined || x === null || y === null) throw UrlError.badValue("gravity");
  if (x.negative || y.negative || x.units > 1000n || y.units > 1000n) throw UrlError.outOfRange("gravity");
  return { x: Number(x.units), y: Number(y.units) };
}

function background(text: string): string {
  if (!COLOUR.test(text)) throw UrlError.badValue("background");
  const colour = text.toLowerCase();
  return colour.length === 8 && colour.endsWith("ff") ? colour.slice(0, 6) : colour;
}

/** Unicode general category Cc: U+0000–U+001F and U+007F–U+009F. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** NFC text without control characters; `undefined` when empty (no watermark). */
function watermark(text: string): string | undefined {
  const nfc = text.normalize("NFC");
  if (CONTROL.test(nfc)) throw UrlError.badValue("watermarkText");
  if (nfc === "") return undefined;
  if (scalarLength(nfc) > MAX_WATERMARK_CHARS) throw UrlError.outOfRange("watermarkText");
  return nfc;
}

// --- the query ---------------------------------------------------------------------------

/** What a query gives, checked, in exact units, before the omission rules. */
interface Given {
  crop?: Crop;
  width?: number;
  height?: number;
  dprTenths: number;
  fit: Fit;
  gravity: GravityWord | Point;
  rotate: number;
  flip: boolean;
  mirror: boolean;
  grayscale: boolean;
  blurTenths: number;
  sharpenTenths: number;
  background?: string;
  quality: number;
  palette: boolean;
  format?: Format;
  watermarkText?: string | undefined;
}

function defaults(): Given {
  return {
    dprTenths: 10,
    fit: "cover",
    gravity: "center",
    rotate: 0,
    flip: false,
    mirror: false,
    grayscale: false,
    blurTenths: 0,
    sharpenTenths: 0,
    quality: DEFAULT_QUALITY,
    palette: false,
  };
}

const isBoolean = (word: string) => BOOLEANS.get(word);

/** Checks one decoded value into `given`. Throws {@link UrlError}. */
function check(given: Given, param: ParamName, text: string): void {
  switch (param) {
    case "crop":
      given.crop = crop(text);
      break;
    case "width":
    case "height":
      given[param] = bounded(param, text, 1, MAX_DIMENSION);
      break;
    case "dpr":
      given.dprTenths = tenths(param, text, 10, 40, false);
      break;
    case "fit":
      given.fit = keyword(param, text, (word) => (FITS as readonly string[]).includes(word) ? (word as Fit) : undefined);
      break;
    case "gravity":
      given.gravity = gravity(text);
      break;
    case "rotate":
      given.rotate = Number(((integer(param, text) % 360n) + 360n) % 360n);
      break;
    case "flip":
    case "mirror":
    case "grayscale":
    case "palette":
      given[param] = keyword(param, text, isBoolean);
      break;
    case "blur":
      given.blurTenths = tenths(param, text, 3, 1000, true);
      break;
    case "sharpen":
      given.sharpenTenths = tenths(param, text, 3, 100, true);
      break;
    case "background":
      given.background = background(text);
      break;
    case "quality":
      given.quality = bounded(param, text, 1, 100);
      break;
    case "format":
      given.format = keyword(param, text, (word) => FORMAT_SPELLINGS.get(word));
      break;
    case "watermarkText":
      given.watermarkText = watermark(text);
      break;
    default: {
      const unhandled: never = param;
      throw new TypeError(`unhandled parameter ${String(unhandled)}`);
    }
  }
}

/** The canonical query's pairs, in canonical order, with every omission rule applied. */
function canonicalPairs(given: Given): [ParamName, string][] {
  const pairs: [ParamName, string][] = [];
  const both = given.width !== undefined && given.height !== undefined;
  const either = given.width !== undefined || given.height !== undefined;
  const fit = both ? given.fit : "cover";
  if (given.crop !== undefined) {
    const { x, y, width, height } = given.crop;
    pairs.push(["crop", `${x},${y},${width},${height}`]);
  }
  if (given.width !== undefined) pairs.push(["width", `${given.width}`]);
  if (given.height !== undefined) pairs.push(["height", `${given.height}`]);
  if (either && given.dprTenths !== 10) pairs.push(["dpr", decimalText(given.dprTenths, 1)]);
  if (fit !== "cover") pairs.push(["fit", fit]);
  if (both && fit === "cover") {
    const g = given.gravity;
    if (typeof g === "string") {
      if (g !== "center") pairs.push(["gravity", g]);
    } else if (g.x !== 500 || g.y !== 500) {
      pairs.push(["gravity", `${decimalText(g.x, 3)},${decimalText(g.y, 3)}`]);
    }
  }
  if (given.rotate !== 0) pairs.push(["rotate", `${given.rotate}`]);
  if (given.flip) pairs.push(["flip", "1"]);
  if (given.mirror) pairs.push(["mirror", "1"]);
  if (given.grayscale) pairs.push(["grayscale", "1"]);
  if (given.blurTenths !== 0) pairs.push(["blur", decimalText(given.blurTenths, 1)]);
  if (given.sharpenTenths !== 0) pairs.push(["sharpen", decimalText(given.sharpenTenths, 1)]);
  if (given.background !== undefined) pairs.push(["background", given.background]);
  if (given.quality !== DEFAULT_QUALITY) pairs.push(["quality", `${given.quality}`]);
  if (given.palette) pairs.push(["palette", "1"]);
  if (given.format !== undefined) pairs.push(["format", given.format]);
  if (given.watermarkText !== undefined) pairs.push(["watermarkText", percentEncode(given.watermarkText)]);
  return pairs;
}

/** The typed spec of what the canonical query renders (see {@link TransformSpec}). */
function specOf(given: Given, pairs: readonly [ParamName, string][]): TransformSpec {
  const kept = new Set(pairs.map(([name]) => name));
  const both = given.width !== undefined && given.height !== undefined;
  const g = given.gravity;
  let gravity: Gravity = "center";
  if (kept.has("gravity")) gravity = typeof g === "string" ? g : ({ x: g.x / 1000, y: g.y / 1000 } satisfies FocalPoint);
  const spec: { -readonly [K in keyof TransformSpec]: TransformSpec[K] } = {
    dpr: kept.has("dpr") ? given.dprTenths / 10 : 1,
    fit: both ? given.fit : "cover",
    gravity,
    rotate: given.rotate,
    flip: given.flip,
    mirror: given.mirror,
    grayscale: given.grayscale,
    blur: given.blurTenths / 10,
    sharpen: given.sharpenTenths / 10,
    quality: given.quality,
    palette: given.palette,
  };
  if (given.crop !== undefined) spec.crop = given.crop;
  if (given.width !== undefined) spec.width = given.width;
  if (given.height !== undefined) spec.height = given.height;
  if (given.background !== undefined) spec.background = given.background;
  if (given.format !== undefined) spec.format = given.format;
  if (given.watermarkText !== undefined) spec.watermarkText = given.watermarkText;
  return spec;
}

/** One `name=value` piece of a raw query whose name is one of the spec's. */
export interface KnownPair {
  /** The piece exactly as it appeared in the query. */
  readonly piece: string;
  readonly name: ParamName;
  /** The value, still encoded. */
  readonly rawValue: string;
}

/**
 * The pieces of a raw query whose (decoded) name is one of the spec's, in query order:
 * empty pieces and unknown names are dropped unread, as CloudFront's allow-list does.
 */
export function knownPairs(rawQuery: string): KnownPair[] {
  const pairs: KnownPair[] = [];
  for (const piece of rawQuery.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const name = formDecode(eq < 0 ? piece : piece.slice(0, eq));
    if (name !== null && isParamName(name)) pairs.push({ piece, name, rawValue: eq < 0 ? "" : piece.slice(eq + 1) });
  }
  return pairs;
}

/**
 * Parses a raw query (without `?`) by the spec's rules: unknown parameters are dropped
 * first, then a known one given twice is `duplicate_param`, then the values are checked in
 * query order (the first invalid one decides the error). Throws {@link UrlError}.
 */
export function parseQuery(rawQuery: string): ParsedQuery {
  const pairs = knownPairs(rawQuery);
  const seen = new Set<ParamName>();
  for (const { name } of pairs) {
    if (seen.has(name)) throw UrlError.duplicate(name);
    seen.add(name);
  }
  const given = defaults();
  for (const { name, rawValue } of pairs) {
    const text = formDecode(rawValue);
    if (text === null) throw UrlError.badValue(name);
    check(given, name, text);
  }
  const canonical = canonicalPairs(given);
  const canonicalQuery = canonical.map(([name, value]) => `${name}=${value}`).join("&");
  const filtered = pairs.map(({ piece }) => piece).join("&");
  return { spec: specOf(given, canonical), canonicalQuery, isCanonical: filtered === canonicalQuery };
}

// --- building ----------------------------------------------------------------------------

/**
 * Typed transform parameters, as a program writes them; anything left out keeps its
 * default. A {@link TransformSpec} is one too. Numbers are written as JavaScript writes
 * them (`String(n)`), then checked exactly as a URL's values are (`1e21` is a `bad_value`).
 */
export interface TransformOptions {
  crop?: Crop | string;
  width?: number;
  height?: number;
  dpr?: number;
  fit?: Fit;
  gravity?: Gravity | "centre";
  rotate?: number;
  flip?: boolean;
  mirror?: boolean;
  grayscale?: boolean;
  blur?: number;
  sharpen?: number;
  /** `rrggbb` or `rrggbbaa`, hex digits of either case, no `#`. */
  background?: string;
  quality?: number;
  palette?: boolean;
  format?: Format | "jpg";
  watermarkText?: string | undefined;
}

/**
 * Decoded values by parameter, as a form holds them (booleans as `1`/`0`/`true`/`false`,
 * `crop` as `x,y,w,h`, a focal point as `X,Y`). An empty string means "not given".
 */
export type ParamValues = Partial<Record<ParamName, string>>;

/** Typed options (or values already written as strings) as decoded query values. */
export function toParamValues(options: TransformOptions | ParamValues): ParamValues {
  const values: ParamValues = {};
  for (const [name, value] of Object.entries(options) as [string, unknown][]) {
    if (value === undefined || value === null || !isParamName(name)) continue;
    if (typeof value === "boolean") {
      values[name] = value ? "1" : "0";
    } else if (typeof value === "object" && name === "crop") {
      const { x, y, width, height } = value as Crop;
      values[name] = `${x},${y},${width},${height}`;
    } else if (typeof value === "object" && name === "gravity") {
      const { x, y } = value as FocalPoint;
      values[name] = `${x},${y}`;
    } else {
      values[name] = String(value);
    }
  }
  return values;
}

/**
 * The canonical query of typed options (a {@link TransformSpec} included) or of decoded
 * values, checked by exactly the rules of a URL's query. `undefined` and empty strings
 * mean "not given". Throws {@link UrlError}.
 */
export function canonicalQuery(params: TransformOptions | ParamValues): string {
  const values = toParamValues(params);
  const raw = PARAM_NAMES.filter((name) => values[name] !== undefined && values[name] !== "")
    .map((name) => `${name}=${percentEncode(values[name] ?? "")}`)
    .join("&");
  return parseQuery(raw).canonicalQuery;
}

/** The same as {@link canonicalQuery} (the name of the web client's first version). */
export const canonicalQueryOf = canonicalQuery;
