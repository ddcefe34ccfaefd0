/**
 * The parameters of transform URLs v1: their names in canonical order, and one check per
 * parameter that turns an accepted (already form-decoded) value into its canonical form.
 */
import { UrlError } from "./errors";

/** Parameter names, in canonical order (the order of the spec's table). */
export const PARAM_NAMES = [
  "width",
  "height",
  "fit",
  "rotate",
  "flip",
  "mirror",
  "grayscale",
  "blur",
  "quality",
  "format",
  "watermarkText",
] as const;

export type ParamName = (typeof PARAM_NAMES)[number];

export const FITS = ["cover", "contain", "fill", "inside", "outside"] as const;
export type Fit = (typeof FITS)[number];

export const OUTPUT_FORMATS = ["jpeg", "png", "webp", "avif"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const MAX_DIMENSION = 8192;
export const DEFAULT_QUALITY = 80;
export const MAX_WATERMARK_CHARS = 64;
export const MAX_BLUR = 100;
/** The smallest blur sigma other than 0 (0.1 and 0.2 are out of range). */
export const MIN_BLUR = 0.3;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

const NAMES: ReadonlySet<string> = new Set(PARAM_NAMES);

export function isParamName(name: string): name is ParamName {
  return NAMES.has(name);
}

/** A canonical value, or `null` when the value is the default and left out. */
type Canonical = string | null;

function parseInteger(name: ParamName, value: string): bigint {
  if (!/^-?[0-9]+$/.test(value)) {
    throw new UrlError("bad_value", `${name} must be an integer`, name);
  }
  const negative = value.startsWith("-");
  const digits = value.replace(/^-/, "").replace(/^0+/, "") || "0";
  if (digits.length > 19) {
    throw new UrlError("out_of_range", `${name} is too large`, name);
  }
  const number = negative ? -BigInt(digits) : BigInt(digits);
  if (number < I64_MIN || number > I64_MAX) {
    throw new UrlError("out_of_range", `${name} is too large`, name);
  }
  return number;
}

function checkDimension(name: ParamName, value: string): Canonical {
  const number = parseInteger(name, value);
  if (number < 1n || number > BigInt(MAX_DIMENSION)) {
    throw new UrlError("out_of_range", `${name} must be between 1 and ${MAX_DIMENSION}`, name);
  }
  return number.toString();
}

function checkFit(value: string): Canonical {
  if (!(FITS as readonly string[]).includes(value)) {
    throw new UrlError("bad_value", `fit must be one of ${FITS.join(", ")}`, "fit");
  }
  // Whether it is kept depends on width and height: see canonicalQuery().
  return value;
}

function checkRotate(value: string): Canonical {
  const degrees = ((parseInteger("rotate", value) % 360n) + 360n) % 360n;
  return degrees === 0n ? null : degrees.toString();
}

const BOOLEANS: Readonly<Record<string, boolean>> = { "1": true, true: true, "0": false, false: false };

function checkBoolean(name: ParamName, value: string): Canonical {
  const flag = Object.hasOwn(BOOLEANS, value) ? BOOLEANS[value] : undefined;
  if (flag === undefined) {
    throw new UrlError("bad_value", `${name} must be 1, true, 0 or false`, name);
  }
  return flag ? "1" : null;
}

function checkBlur(value: string): Canonical {
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(value);
  if (!match) {
    throw new UrlError("bad_value", "blur must be a decimal number such as 2 or 2.5", "blur");
  }
  const [, sign, wholeDigits, fraction = ""] = match;
  if (sign) {
    throw new UrlError("out_of_range", "blur must not be negative", "blur");
  }
  const whole = wholeDigits.replace(/^0+/, "") || "0";
  if (whole.length > 4) {
    throw new UrlError("out_of_range", `blur must be at most ${MAX_BLUR}`, "blur");
  }
  // Rounded half-up to tenths on the decimal digits themselves, never through floats.
  let tenths = Number(whole) * 10 + Number((fraction + "0")[0]);
  if (fraction.length >= 2 && fraction[1] >= "5") tenths += 1;
  if (tenths === 0) return null;
  if (tenths < MIN_BLUR * 10 || tenths > MAX_BLUR * 10) {
    throw new UrlError("out_of_range", `blur must be 0 or between ${MIN_BLUR} and ${MAX_BLUR}`, "blur");
  }
  const tenth = tenths % 10;
  const units = (tenths - tenth) / 10;
  return tenth === 0 ? `${units}` : `${units}.${tenth}`;
}

function checkQuality(value: string): Canonical {
  const quality = parseInteger("quality", value);
  if (quality < 1n || quality > 100n) {
    throw new UrlError("out_of_range", "quality must be between 1 and 100", "quality");
  }
  return quality === BigInt(DEFAULT_QUALITY) ? null : quality.toString();
}

function checkFormat(value: string): Canonical {
  if (value === "jpg") return "jpeg";
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) {
    throw new UrlError("bad_value", "format must be one of jpeg, jpg, png, webp, avif", "format");
  }
  return value;
}

/** Unicode general category Cc: U+0000–U+001F and U+007F–U+009F. */
function isControl(codePoint: number): boolean {
  return codePoint <= 0x1f || (codePoint >= 0x7f && codePoint <= 0x9f);
}

/** The canonical percent-encoding: unreserved bytes literal, every other byte `%XX`. */
export function percentEncode(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const unreserved =
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e; // - . _ ~
    out += unreserved ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The number of Unicode scalar values of `text` (not UTF-16 units). */
export function scalarLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function checkWatermark(value: string): Canonical {
  const text = value.normalize("NFC");
  for (const ch of text) {
    if (isControl(ch.codePointAt(0) ?? 0)) {
      throw new UrlError("bad_value", "watermarkText must not contain control characters", "watermarkText");
    }
  }
  if (text === "") return null;
  if (scalarLength(text) > MAX_WATERMARK_CHARS) {
    throw new UrlError(
      "out_of_range",
      `watermarkText is longer than ${MAX_WATERMARK_CHARS} characters`,
      "watermarkText",
    );
  }
  return percentEncode(text);
}

/**
 * Checks one decoded value. Returns its canonical form, or `null` when the value is the
 * parameter's default and is left out of the canonical query. Throws {@link UrlError}.
 */
export function checkValue(name: ParamName, value: string): Canonical {
  switch (name) {
    case "width":
    case "height":
      return checkDimension(name, value);
    case "fit":
      return checkFit(value);
    case "rotate":
      return checkRotate(value);
    case "flip":
    case "mirror":
    case "grayscale":
      return checkBoolean(name, value);
    case "blur":
      return checkBlur(value);
    case "quality":
      return checkQuality(value);
    case "format":
      return checkFormat(value);
    case "watermarkText":
      return checkWatermark(value);
  }
}
