/**
 * A preset's name and query as a form holds them, checked before the request by the rules
 * the API applies (its name's pattern; the query by the transform URL package, which also
 * gives the canonical form the API stores).
 */
import { UrlError, parseQuery } from "../transform";

/** The API's rule for a preset's name: 1 to 64 of `a-z`, `0-9`, `_` and `-`, not starting with `_` or `-`. */
const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function presetNameProblem(name: string): string | null {
  if (name === "") return "A name is needed.";
  return NAME.test(name) ? null : "1 to 64 of a–z, 0–9, _ and -, starting with a letter or digit.";
}

/** The canonical query the API will store, or why it refuses the query. */
export function presetQuery(text: string): { ok: true; canonical: string } | { ok: false; message: string } {
  try {
    return { ok: true, canonical: parseQuery(text.trim().replace(/^\?/, "")).canonicalQuery };
  } catch (error) {
    if (error instanceof UrlError) return { ok: false, message: error.message };
    throw error;
  }
}
