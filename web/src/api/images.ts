/** Images: list, metadata, delete, and uploads with real progress. */
import { apiRequest, withAccessToken } from "./client";
import { ApiError } from "./errors";
import type { ImageList, ImageMetadata } from "./types";

export function listImages(params: { limit: number; cursor?: string }, signal?: AbortSignal): Promise<ImageList> {
  const query = new URLSearchParams({ limit: String(params.limit) });
  if (params.cursor) query.set("cursor", params.cursor);
  return apiRequest<ImageList>(`/v1/images?${query}`, { signal });
}

export function getImage(id: string, signal?: AbortSignal): Promise<ImageMetadata> {
  return apiRequest<ImageMetadata>(`/v1/images/${encodeURIComponent(id)}`, { signal });
}

export function deleteImage(id: string): Promise<void> {
  return apiRequest<void>(`/v1/images/${encodeURIComponent(id)}`, { method: "DELETE" });
}

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
export function uploadImage(file: File, options: UploadOptions = {}): Promise<ImageMetadata> {
  return withAccessToken((token) => send(file, token, options));
}

function send(file: File, token: string, { onProgress, signal }: UploadOptions): Promise<ImageMetadata> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("The upload was cancelled.", "AbortError"));
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);

    xhr.open("POST", "/v1/images");
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      done();
      if (xhr.status === 201) {
        try {
          resolve(JSON.parse(xhr.responseText) as ImageMetadata);
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
