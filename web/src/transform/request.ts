/**
 * Whole `/i/{image_id}/{sig}?{query}` requests, answered as an edge and the transformer
 * together answer them. The web client only builds URLs; this is here so that the module
 * implements the whole contract and is proven against every vector.
 */
import { UrlError } from "./errors";
import { parseQuery } from "./query";
import { constantTimeEqual, deriveUrlKey, isWellFormedSig, signQuery, variantPath } from "./sign";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` is an image id as the spec writes it: a lowercase hyphenated UUID. */
export function isImageId(id: string): boolean {
  return UUID.test(id);
}

export type Outcome =
  | { readonly status: 200 }
  | { readonly status: 301; readonly location: string }
  | { readonly status: 400; readonly error: UrlError }
  | { readonly status: 403 };

/** What the service answers for `path?query`, given the server's `url_secret`. */
export function requestOutcome(urlSecret: Uint8Array, path: string, query: string): Outcome {
  const rest = path.startsWith("/i/") ? path.slice(3) : null;
  const slash = rest?.indexOf("/") ?? -1;
  if (rest === null || slash === -1) throw new TypeError(`not a transform path: ${path}`);
  // The sig is everything after the id, so a `/` in it makes a bad sig, not another route.
  const imageId = rest.slice(0, slash);
  const sig = rest.slice(slash + 1);
  let parsed;
  try {
    if (!isImageId(imageId)) {
      throw new UrlError("bad_image_id", "the image id must be a lowercase hyphenated UUID");
    }
    if (!isWellFormedSig(sig)) {
      throw new UrlError("bad_sig", "the signature must be 22 base64url characters");
    }
    parsed = parseQuery(query);
  } catch (error) {
    if (error instanceof UrlError) return { status: 400, error };
    throw error;
  }
  if (!parsed.isCanonical) {
    return { status: 301, location: variantPath(imageId, sig, parsed.canonicalQuery) };
  }
  const expected = signQuery(deriveUrlKey(urlSecret, imageId), parsed.canonicalQuery);
  return constantTimeEqual(sig, expected) ? { status: 200 } : { status: 403 };
}
