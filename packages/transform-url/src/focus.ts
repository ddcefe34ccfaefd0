/**
 * An image's focus (the owner's focal point, kept by the API) entering its URLs: the same
 * rule as the Rust implementation's `TransformSpec::with_focus`, which the API applies when
 * it mints URLs and in presets. A builder applying it too makes one intent give one URL,
 * whoever builds it.
 */
import type { FocalPoint } from "./params.js";
import { canonicalQuery, parseQuery, type TransformSpec } from "./query.js";

/**
 * `spec` with `focus` as its gravity when it is a `cover` of a box (both `width` and
 * `height`) that names no gravity (the centre: a spec cannot tell `gravity=center` from
 * none, and neither can its canonical query) and no `crop` (whose window is in the cropped
 * region, not in the image the focus is of). Any other spec is returned as it is, and so
 * is every spec for a `null` focus or one at the centre (`0.5,0.5` is no gravity at all).
 *
 * `focus` is in fractions of the image, as the API's `focus` and a {@link FocalPoint} are;
 * where it applies, it is rounded to thousandths and checked by the rules of a URL's
 * `gravity`, so a point outside 0..=1 throws a `UrlError` (`out_of_range`, `gravity`).
 */
export function withFocus(spec: TransformSpec, focus: FocalPoint | null | undefined): TransformSpec {
  const box = spec.width !== undefined && spec.height !== undefined;
  // A crop's gravity is measured in the cropped region, not the image the focus is of.
  if (focus == null || !box || spec.crop !== undefined || spec.fit !== "cover" || spec.gravity !== "center") return spec;
  // Through the query's own rules, so the point is rounded and checked exactly as a URL's
  // is, and the centre comes back as "center".
  return parseQuery(canonicalQuery({ ...spec, gravity: focus })).spec;
}
