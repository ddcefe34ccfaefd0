/**
 * The transform builder's form: one field per parameter of the spec, turned into a signed
 * variant by the transform module (so the form is checked by exactly the spec's rules, and
 * the canonical query and the sig are the package's, never written here).
 */
import {
  DEFAULT_QUALITY,
  UrlError,
  canonicalQuery,
  type Fit,
  type Format,
  type GravityWord,
  type ParamName,
  type ParamValues,
  type SignedVariant,
} from "../transform";
import { focusedVariant, type FocusedImage } from "./focus";

/** What `gravity` is set to: one of the spec's words, or the focal point of the form. */
export type GravityChoice = GravityWord | "focal";

export interface BuilderValues {
  /** The crop region, in pixels of the original (after EXIF orientation): all four empty for none. */
  cropX: string;
  cropY: string;
  cropWidth: string;
  cropHeight: string;
  width: string;
  height: string;
  /** Device pixel ratio, 1 to 4: multiplies `width` and `height`. */
  dpr: string;
  fit: Fit;
  gravity: GravityChoice;
  /** The focal point (used when `gravity` is `focal`): fractions of the source, after the crop. */
  focalX: string;
  focalY: string;
  rotate: string;
  flip: boolean;
  mirror: boolean;
  grayscale: boolean;
  blur: string;
  sharpen: string;
  /** Whether a background colour is sent. */
  backgroundOn: boolean;
  /** `#rrggbb`, as a colour input holds it. */
  backgroundColor: string;
  /** The background's opacity in percent, 0 to 100 (100: no alpha digits). */
  backgroundOpacity: string;
  quality: string;
  palette: boolean;
  /** `auto` (chosen by the browser's `Accept`), an output format, or empty: keep the original's. */
  format: Format | "";
  watermarkText: string;
}

export const DEFAULT_VALUES: BuilderValues = {
  cropX: "",
  cropY: "",
  cropWidth: "",
  cropHeight: "",
  width: "",
  height: "",
  dpr: "1",
  fit: "cover",
  gravity: "center",
  focalX: "0.5",
  focalY: "0.5",
  rotate: "0",
  flip: false,
  mirror: false,
  grayscale: false,
  blur: "0",
  sharpen: "0",
  backgroundOn: false,
  backgroundColor: "#ffffff",
  backgroundOpacity: "100",
  quality: String(DEFAULT_QUALITY),
  palette: false,
  format: "auto",
  watermarkText: "",
};

/** The crop fields as `x,y,w,h` (checked by the spec's rules later), or empty when none is filled in. */
export function cropParam(values: BuilderValues): string {
  const parts = [values.cropX, values.cropY, values.cropWidth, values.cropHeight].map((part) => part.trim());
  return parts.every((part) => part === "") ? "" : parts.join(",");
}

/** The `gravity` value of the form: a word, or the focal point as `X,Y`. */
export function gravityParam(values: BuilderValues): string {
  if (values.gravity !== "focal") return values.gravity;
  const x = values.focalX.trim();
  const y = values.focalY.trim();
  return x === "" && y === "" ? "" : `${x},${y}`;
}

/** The background colour as the spec writes it: `rrggbb`, with `aa` when not opaque; empty when off. */
export function backgroundParam(values: BuilderValues): string {
  if (!values.backgroundOn) return "";
  const colour = values.backgroundColor.trim().replace(/^#/, "").toLowerCase();
  const opacity = Number(values.backgroundOpacity);
  if (values.backgroundOpacity.trim() === "" || !Number.isFinite(opacity) || opacity >= 100) return colour;
  const alpha = Math.round((Math.max(0, opacity) * 255) / 100);
  return colour + alpha.toString(16).padStart(2, "0");
}

/** The form as decoded query values (empty fields are left out), in the spec's order. */
export function builderParams(values: BuilderValues): ParamValues {
  const params: ParamValues = {};
  const put = (name: ParamName, value: string | boolean) => {
    const text = typeof value === "boolean" ? (value ? "1" : "") : name === "watermarkText" ? value : value.trim();
    if (text.trim() !== "") params[name] = text;
  };
  put("crop", cropParam(values));
  put("width", values.width);
  put("height", values.height);
  put("dpr", values.dpr);
  put("fit", values.fit);
  put("gravity", gravityParam(values));
  put("rotate", values.rotate);
  put("flip", values.flip);
  put("mirror", values.mirror);
  put("grayscale", values.grayscale);
  put("blur", values.blur);
  put("sharpen", values.sharpen);
  put("background", backgroundParam(values));
  put("quality", values.quality);
  put("palette", values.palette);
  put("format", values.format);
  put("watermarkText", values.watermarkText);
  return params;
}

export type BuildResult =
  | { readonly ok: true; readonly variant: SignedVariant }
  | { readonly ok: false; readonly param: ParamName | undefined; readonly message: string };

/**
 * The signed variant of the form's values, or the first value the spec refuses. The image's
 * focus fills a cover that names no gravity ("center"), as the API does when it mints.
 */
export function buildVariant(image: FocusedImage, values: BuilderValues): BuildResult {
  try {
    return { ok: true, variant: focusedVariant(image, builderParams(values)) };
  } catch (error) {
    if (error instanceof UrlError) {
      return { ok: false, param: error.param as ParamName | undefined, message: error.message };
    }
    throw error;
  }
}

/**
 * The form's canonical query as the owner chose it, without the image's focus: what a preset
 * stores (the API applies each image's own focus to it). Null when the spec refuses a value.
 */
export function builderQuery(values: BuilderValues): string | null {
  try {
    return canonicalQuery(builderParams(values));
  } catch (error) {
    if (error instanceof UrlError) return null;
    throw error;
  }
}

/** Whether `fit` has an effect: only with both width and height. */
export function fitApplies(values: BuilderValues): boolean {
  return values.width.trim() !== "" && values.height.trim() !== "";
}

/** Whether `gravity` has an effect: only for `cover` with both width and height. */
export function gravityApplies(values: BuilderValues): boolean {
  return fitApplies(values) && values.fit === "cover";
}

/** Whether `dpr` has an effect: only with a width or a height. */
export function dprApplies(values: BuilderValues): boolean {
  return values.width.trim() !== "" || values.height.trim() !== "";
}

/** Whether the output can be a PNG, where `palette` has its effect. */
export function paletteMayApply(values: BuilderValues, sourceFormat: string): boolean {
  return values.format === "png" || values.format === "auto" || (values.format === "" && sourceFormat === "png");
}
