/**
 * The transform builder's form: one field per parameter of the spec, turned into a signed
 * variant by the transform module (so the form is checked by exactly the spec's rules).
 */
import {
  DEFAULT_QUALITY,
  UrlError,
  transformVariant,
  type Fit,
  type OutputFormat,
  type ParamName,
  type ParamValues,
  type SignedVariant,
  type SigningImage,
} from "../transform";

export interface BuilderValues {
  width: string;
  height: string;
  fit: Fit;
  rotate: string;
  flip: boolean;
  mirror: boolean;
  grayscale: boolean;
  blur: string;
  quality: string;
  /** Empty: keep the original's format. */
  format: OutputFormat | "";
  watermarkText: string;
}

export const DEFAULT_VALUES: BuilderValues = {
  width: "",
  height: "",
  fit: "cover",
  rotate: "0",
  flip: false,
  mirror: false,
  grayscale: false,
  blur: "0",
  quality: String(DEFAULT_QUALITY),
  format: "",
  watermarkText: "",
};

/** The form as decoded query values (empty fields are left out). */
export function builderParams(values: BuilderValues): ParamValues {
  const params: ParamValues = {};
  for (const [name, value] of Object.entries(values) as [ParamName, string | boolean][]) {
    const text = typeof value === "boolean" ? (value ? "1" : "") : value.trim() === "" ? "" : value;
    if (text !== "") params[name] = name === "watermarkText" ? text : text.trim();
  }
  return params;
}

export type BuildResult =
  | { readonly ok: true; readonly variant: SignedVariant }
  | { readonly ok: false; readonly param: ParamName | undefined; readonly message: string };

/** The signed variant of the form's values, or the first value the spec refuses. */
export function buildVariant(image: SigningImage, values: BuilderValues): BuildResult {
  try {
    return { ok: true, variant: transformVariant(image, builderParams(values)) };
  } catch (error) {
    if (error instanceof UrlError) {
      return { ok: false, param: error.param as ParamName | undefined, message: error.message };
    }
    throw error;
  }
}

/** Whether `fit` has an effect: only with both width and height. */
export function fitApplies(values: BuilderValues): boolean {
  return values.width.trim() !== "" && values.height.trim() !== "";
}
