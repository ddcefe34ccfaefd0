/**
 * Tags as a person types them (`Beach, sunset  holiday`) and as the API keeps them:
 * lowercase slugs, without duplicates, sorted. The API checks them again; this only
 * explains a refusal before the request.
 */

export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 64;
/** `a-z`, `0-9`, a single `-` between words: the API's rule. */
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The tags in `text` (separated by commas or spaces), lowered, without duplicates, sorted. */
export function parseTags(text: string): string[] {
  const words = text
    .split(/[\s,]+/)
    .map((word) => word.trim().toLowerCase())
    .filter((word) => word !== "");
  return [...new Set(words)].sort();
}

/** Why the API would refuse these tags, or null. */
export function tagsProblem(tags: readonly string[]): string | null {
  if (tags.length > MAX_TAGS) return `At most ${MAX_TAGS} tags.`;
  const bad = tags.find((tag) => !SLUG.test(tag) || tag.length > MAX_TAG_LENGTH);
  if (bad !== undefined) {
    return `“${bad}” is not a tag: letters a–z, digits and single hyphens between words, up to ${MAX_TAG_LENGTH} characters.`;
  }
  return null;
}

export function formatTags(tags: readonly string[]): string {
  return tags.join(", ");
}
