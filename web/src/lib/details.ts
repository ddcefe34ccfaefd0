/**
 * The image's description as a form holds it (alt text, decorative or not, title, tags)
 * and the JSON merge patch of what changed: only changed fields are sent, `null` removes
 * one, so an edit never rewrites what it did not touch.
 */
import type { ImageMetadata, ImagePatch } from "@imgedge/api-client";
import { formatTags, parseTags } from "./tags";

export const MAX_ALT = 1000;
export const MAX_TITLE = 200;

export interface DetailsForm {
  alt: string;
  /** Decorative: the API's `alt` of `""` (screen readers skip the image). */
  decorative: boolean;
  title: string;
  tags: string;
}

type Described = Pick<ImageMetadata, "alt" | "title" | "tags">;

export function detailsFormOf(image: Described): DetailsForm {
  return {
    alt: image.alt ?? "",
    decorative: image.alt === "",
    title: image.title ?? "",
    tags: formatTags(image.tags),
  };
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((tag, i) => tag === b[i]);
}

/** The merge patch from `image` to `form`: empty when nothing changed. */
export function detailsPatch(image: Described, form: DetailsForm): ImagePatch {
  const patch: ImagePatch = {};
  const alt = form.decorative ? "" : form.alt.trim() || null;
  if (alt !== (image.alt ?? null)) patch.alt = alt;
  const title = form.title.trim() || null;
  if (title !== (image.title ?? null)) patch.title = title;
  const tags = parseTags(form.tags);
  if (!sameTags(tags, [...image.tags].sort())) patch.tags = tags;
  return patch;
}
