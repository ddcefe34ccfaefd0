/**
 * Whole `/i/{image_id}/{sig}?{query}` requests: parsing (path errors first, then the
 * query's) and the spec's decision: 400, 301, 403 or 200.
 */
import { UrlError } from "./errors.js";
import { parseQuery, type TransformSpec } from "./query.js";
import { isWellFormedSig, urlKey, verifySig, type Key } from "./sign.js";

const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` is an image id as the spec writes it: a lowercase hyphenated UUID. */
export function isImageId(id: string): boolean {
  return IMAGE_ID.test(id);
}

/** A variant as keys name it: its image, its sig and its canonical query. */
export interface VariantRef {
  readonly imageId: string;
  readonly sig: string;
  readonly canonicalQuery: string;
}

/** A well-formed transform request; its sig is not checked yet. */
export interface TransformRequest extends VariantRef {
  readonly spec: TransformSpec;
  /** Whether the raw query was canonical (else: 301 to {@link canonicalPath}). */
  readonly isCanonical: boolean;
}

/**
 * Parses a request's path (`/i/{image_id}/{sig}`, nothing after: the sig is everything
 * after the id, so a `/` in it makes a bad sig) and raw query (without `?`; empty when
 * there is none). Errors in the spec's order: `bad_image_id` (also for a path outside
 * `/i/`), `bad_sig`, then the query's. Throws {@link UrlError}.
 */
export function parseTransformRequest(path: string, rawQuery: string): TransformRequest {
  if (!path.startsWith("/i/")) throw UrlError.badImageId();
  const rest = path.slice(3);
  const slash = rest.indexOf("/");
  const imageId = slash < 0 ? rest : rest.slice(0, slash);
  if (!isImageId(imageId)) throw UrlError.badImageId();
  const sig = slash < 0 ? undefined : rest.slice(slash + 1);
  if (sig === undefined || !isWellFormedSig(sig)) throw UrlError.badSig();
  const { spec, canonicalQuery, isCanonical } = parseQuery(rawQuery);
  return { imageId, sig, spec, canonicalQuery, isCanonical };
}

/** `/i/{image_id}/{sig}`, then `?{canonical query}` unless that is empty. */
export function variantPath(imageId: string, sig: string, canonicalQuery: string): string {
  const path = `/i/${imageId}/${sig}`;
  return canonicalQuery === "" ? path : `${path}?${canonicalQuery}`;
}

/** The canonical path of a request: its 301 target, and what the transformer is asked. */
export function canonicalPath(request: VariantRef): string {
  return variantPath(request.imageId, request.sig, request.canonicalQuery);
}

/** The spec's answer to a request. */
export type Outcome =
  | { readonly status: 200 }
  | { readonly status: 301; readonly location: string }
  | { readonly status: 400; readonly error: UrlError }
  | { readonly status: 403 };

/**
 * The decision for a well-formed request: 301 to the canonical URL when the query is not
 * canonical (decided without the key, as edges hold none), else 403 when `key` (the image's
 * current `url_key`) is given and the sig does not verify, else 200. With `key` null the
 * 200 means "pass it on to whoever holds the key".
 */
export function decide(request: TransformRequest, key: Key | null): Exclude<Outcome, { status: 400 }> {
  if (!request.isCanonical) return { status: 301, location: canonicalPath(request) };
  if (key !== null && !verifySig(key, request.canonicalQuery, request.sig)) return { status: 403 };
  return { status: 200 };
}

/**
 * What the service answers for `path?query`, given the server's `url_secret` and the
 * image's current key epoch: 400 (with the error), 301, 403 or 200.
 */
export function requestOutcome(urlSecret: Key, path: string, rawQuery: string, epoch = 0): Outcome {
  let request: TransformRequest;
  try {
    request = parseTransformRequest(path, rawQuery);
  } catch (error) {
    if (error instanceof UrlError) return { status: 400, error };
    throw error;
  }
  return decide(request, request.isCanonical ? urlKey(urlSecret, request.imageId, epoch) : null);
}
