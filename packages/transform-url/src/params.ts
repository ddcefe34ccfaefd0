/**
 * The parameters of transform URLs 1.1: their names in canonical order, their accepted
 * words, their ranges, and what each accepts in words (the messages of errors).
 */

/** Parameter names in canonical order (spec 1.1, "Canonical order"). */
export const PARAM_NAMES = [
  "crop",
  "width",
  "height",
  "dpr",
  "fit",
  "gravity",
  "rotate",
  "flip",
  "mirror",
  "grayscale",
  "blur",
  "sharpen",
  "background",
  "quality",
  "palette",
  "format",
  "watermarkText",
] as const;

export type ParamName = (typeof PARAM_NAMES)[number];

const NAMES: ReadonlySet<string> = new Set(PARAM_NAMES);

/** Whether `name` is exactly one of the spec's parameter names (names are case-sensitive). */
export function isParamName(name: string): name is ParamName {
  return NAMES.has(name);
}

export const FITS = ["cover", "contain", "fill", "inside", "outside"] as const;
export type Fit = (typeof FITS)[number];

/** The output formats an image can be encoded to. */
export const OUTPUT_FORMATS = ["jpeg", "png", "webp", "avif"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The canonical values of `format`: an output format, or `auto` (chosen by `Accept`). */
export const FORMATS = ["auto", ...OUTPUT_FORMATS] as const;
export type Format = (typeof FORMATS)[number];

/** The compass words of `gravity` (`centre` is accepted as `center`). */
export const COMPASS_GRAVITIES = [
  "center",
  "north",
  "northeast",
  "east",
  "southeast",
  "south",
  "southwest",
  "west",
  "northwest",
] as const;
export type CompassGravity = (typeof COMPASS_GRAVITIES)[number];

/** Every word `gravity` takes in its canonical spelling: the compass, and the two smart crops. */
export const GRAVITY_WORDS = [...COMPASS_GRAVITIES, "attention", "entropy"] as const;
export type GravityWord = (typeof GRAVITY_WORDS)[number];

/** A focal point: fractions of the source's width and height, multiples of 0.001 in 0..=1. */
export interface FocalPoint {
  readonly x: number;
  readonly y: number;
}

export type Gravity = GravityWord | FocalPoint;

/** A crop region in pixels of the original (after EXIF orientation). */
export interface Crop {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export const MAX_DIMENSION = 8192;
export const DEFAULT_QUALITY = 80;
export const MAX_WATERMARK_CHARS = 64;
export const MAX_BLUR = 100;
/** The smallest blur sigma other than 0 (0.1 and 0.2 are out of range). */
export const MIN_BLUR = 0.3;
export const MAX_SHARPEN = 10;
/** The smallest sharpen sigma other than 0 (0.1 and 0.2 are out of range). */
export const MIN_SHARPEN = 0.3;
export const MIN_DPR = 1;
export const MAX_DPR = 4;
/** The largest `x` and `y` of a crop region. */
export const MAX_CROP_OFFSET = 65535;
/** The largest `w` and `h` of a crop region. */
export const MAX_CROP_SIZE = 65535;

/**
 * What each parameter accepts, as the end of a sentence starting with its name (the Rust
 * implementation's `Param::requirement`).
 */
export const REQUIREMENTS: Readonly<Record<ParamName, string>> = {
  crop: "must be x,y,w,h: four integers, x and y from 0 to 65535, w and h from 1 to 65535",
  width: "must be an integer from 1 to 8192",
  height: "must be an integer from 1 to 8192",
  dpr: "must be a decimal from 1 to 4 (rounded to one fractional digit)",
  fit: "must be one of cover, contain, fill, inside, outside",
  gravity:
    "must be a compass direction (north, northeast... center), attention, entropy, or a focal point X,Y of decimals from 0 to 1",
  rotate: "must be an integer number of degrees",
  flip: "must be 1, true, 0 or false",
  mirror: "must be 1, true, 0 or false",
  grayscale: "must be 1, true, 0 or false",
  blur: "must be a decimal sigma of 0 or from 0.3 to 100 (rounded to one fractional digit)",
  sharpen: "must be a decimal sigma of 0 or from 0.3 to 10 (rounded to one fractional digit)",
  background: "must be a colour RRGGBB or RRGGBBAA in hexadecimal digits",
  quality: "must be an integer from 1 to 100",
  palette: "must be 1, true, 0 or false",
  format: "must be one of auto, jpeg, jpg, png, webp, avif",
  watermarkText: "must be UTF-8 text of at most 64 characters (after NFC) without control characters",
};
