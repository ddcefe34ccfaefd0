/** Images: list (with filters), metadata with its ETag, edits, delete, and uploads with real progress. */
import type { ImageList, ImageMetadata, ImagePatch, paths } from "@imgedge/api-client";
import { api, withAccessToken } from "./client";
import { ApiError } from "./errors";
import { dataOf, responseOf } from "./result";

/** What the gallery narrows its list by: every tag (all must match) and words of the title, alt or file name. */
export interface ImageFilters {
  readonly tags: readonly string[];
  readonly q: string;
}

export function listImages(
  params: { limit: number; cursor?: string; filters?: ImageFilters },
  signal?: AbortSignal,
): Promise<ImageList> {
  const { limit, cursor, filters } = params;
  const q = filters?.q.trim() ?? "";
  const query = {
    limit,
    cursor,
    // Left out when empty: an empty `tag` or `q` would be a filter of its own.
    tag: filters && filters.tags.length > 0 ? [...filters.tags] : undefined,
    q: q === "" ? undefined : q,
  };
  return dataOf(api.GET("/v1/images", { params: { query }, signal }), signal);
}

/** An image as read, with the `ETag` an edit names in `If-Match` (null when not read from the API itself). */
export interface VersionedImage {
  readonly image: ImageMetadata;
  readonly etag: string | null;
}

export async function getImage(id: string, signal?: AbortSignal): Promise<VersionedImage> {
  const { data, response } = await responseOf(api.GET("/v1/images/{id}", { params: { path: { id } }, signal }), signal);
  return { image: data, etag: response.headers.get("ETag") };
}

/**
 * Applies a JSON merge patch to the image, only if it is still the version `etag` names:
 * otherwise the API answers 412 `precondition_failed` (someone else edited it meanwhile).
 */
export async function editImage(id: string, etag: string, patch: ImagePatch): Promise<VersionedImage> {
  const { data, response } = await responseOf(
    api.PATCH("/v1/images/{id}", {
      params: { path: { id }, header: { "If-Match": etag } },
      body: patch,
      // RFC 7396's media type: `null` removes a field, an absent one stays as it is.
      headers: { "Content-Type": "application/merge-patch+json" },
    }),
  );
  return { image: data, etag: response.headers.get("ETag") };
}

export async function deleteImage(id: string): Promise<void> {
  await dataOf(api.DELETE("/v1/images/{id}", { params: { path: { id } } }));
}

// The upload's path and answer, from the document: a change there fails to compile here.
const UPLOAD_PATH = "/v1/images" satisfies keyof paths;
type Uploaded = paths[typeof UPLOAD_PATH]["post"]["responses"][201]["content"]["application/json"];

export interface UploadOptions {
  /** Called with the fraction of the request body sent, 0 to 1. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/**
 * Uploads one file as multipart field `file`. XMLHttpRequest rather than fetch: only it
 * reports upload progress. Rejects with the server's {@link ApiError} when it refuses the
 * file, or with an `AbortError` DOMException when `signal` aborts.
 */
export function uploadImage(file: File, options: UploadOptions = {}): Promise<Uploaded> {
  return withAccessToken((token) => send(file, token, options));
}
function send(file: File, token: string, { onProgress, signal }: UploadOptions): Promise<Uploaded> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("The upload was cancelled.", "AbortError"));
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);

    xhr.open("POST", UPLOAD_PATH);
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      done();
      if (xhr.status === 201) {
        try {
          resolve(JSON.parse(xhr.responseText) as Uploaded);
        } catch {
          reject(new ApiError(xhr.status, "bad_response", "The server's answer could not be read."));
        }
      } else {
        reject(ApiError.fromBody(xhr.status, xhr.statusText, xhr.responseText));
      }
    });
    xhr.addEventListener("error", () => {
      done();
      reject(ApiError.network());
    });
    xhr.addEventListener("abort", () => {
      done();
      reject(new DOMException("The upload was cancelled.", "AbortError"));
    });

    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}
