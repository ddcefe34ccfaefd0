/**
 * A variant fetched from the edge, as the browser would get it (with the `Accept` header
 * its `<img>` requests send, which `format=auto` chooses by), with what the response
 * tells: size, type, dimensions and whether the edge's cache answered.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { ApiError } from "../api/errors";
import { imageAccept } from "../lib/accept";

export interface Variant {
  readonly path: string;
  readonly blob: Blob;
  readonly bytes: number;
  /** `Content-Type`, e.g. `image/webp`: for `format=auto`, the format this browser gets. */
  readonly contentType: string;
  readonly width?: number;
  readonly height?: number;
  /** `X-Cache`: `Hit from edge` or `Miss from edge`. */
  readonly cache: string | null;
  /** `X-Edge-Origin`: `s3` or `transformer` on a miss. */
  readonly origin: string | null;
  /** Time to the whole body, in milliseconds. */
  readonly elapsedMs: number;
}

async function fetchVariant(path: string, signal: AbortSignal): Promise<Variant> {
  const accept = await imageAccept();
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(path, { signal, headers: { Accept: accept } });
  } catch (error) {
    if (signal.aborted) throw error;
    throw ApiError.network();
  }
  if (!response.ok) throw await ApiError.fromResponse(response);
  const blob = await response.blob();
  const elapsedMs = performance.now() - started;
  let size: { width: number; height: number } | undefined;
  try {
    const bitmap = await createImageBitmap(blob);
    size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
  } catch {
    // A format this browser cannot decode: the size stays unknown.
  }
  return {
    path,
    blob,
    bytes: blob.size,
    contentType: response.headers.get("Content-Type") ?? blob.type,
    ...size,
    cache: response.headers.get("X-Cache"),
    origin: response.headers.get("X-Edge-Origin"),
    elapsedMs,
  };
}

/** The variant at `path` (null: none); the previous one stays shown while the next loads. */
export function useVariant(path: string | null) {
  return useQuery({
    queryKey: ["variant", path],
    queryFn: ({ signal }) => fetchVariant(path!, signal),
    enabled: path !== null,
    placeholderData: keepPreviousData,
    // A variant URL always names the same bytes: what was fetched stays true.
    staleTime: Infinity,
    gcTime: 60_000,
    retry: false,
    refetchOnWindowFocus: false,
  });
}
