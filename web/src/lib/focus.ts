/**
 * An image's focus (its owner's focal point, kept by the API) in the URLs built here, and
 * the builder's focal point saved as that focus.
 */
import {
  canonicalQuery,
  parseQuery,
  signVariant,
  withFocus,
  type FocalPoint,
  type ParamValues,
  type SignedVariant,
  type SigningImage,
  type TransformOptions,
} from "../transform";
import type { BuilderValues } from "./builder";
import { focalPoint, thousandths, type Size } from "./region";

/** What signing needs of an image, with its focus (the API's `focus`; null or absent: none). */
export interface FocusedImage extends SigningImage {
  readonly focus?: FocalPoint | null;
}

/**
 * The signed variant of these parameters with the image's focus applied by the package's
 * rule (`withFocus`: a `cover` box naming no gravity gets the focus). The API mints and
 * writes preset URLs by the same rule, so one intent gives one URL wherever it is built.
 * Throws `UrlError` for a value outside the spec.
 */
export function focusedVariant(image: FocusedImage, params: TransformOptions | ParamValues): SignedVariant {
  const { spec } = parseQuery(canonicalQuery(params));
  return signVariant(image, canonicalQuery(withFocus(spec, image.focus)));
}

export function focusedPath(image: FocusedImage, params: TransformOptions | ParamValues): string {
  return focusedVariant(image, params).path;
}

/**
 * The builder's focal point as a focus of the whole image (the form measures it within the
 * crop; a focus is a point of the upright original), to thousandths; null unless the form's
 * gravity is a focal point.
 */
export function focusOfForm(values: BuilderValues, image: Size): FocalPoint | null {
  if (values.gravity !== "focal") return null;
  const point = focalPoint(values, image);
  return point && { x: Number(thousandths(point.x)), y: Number(thousandths(point.y)) };
}
