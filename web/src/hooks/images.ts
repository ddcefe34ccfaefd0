/** Server state of images with TanStack Query: keys, queries and mutations. */
import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";
import type { ImageList, ImageMetadata, ImagePatch } from "@imgedge/api-client";
import {
  deleteImage,
  editImage,
  getImage,
  listImages,
  uploadImage,
  type ImageFilters,
  type UploadOptions,
  type VersionedImage,
} from "../api/images";
import { ApiError } from "../api/errors";

export const PAGE_SIZE = 24;

export const NO_FILTERS: ImageFilters = { tags: [], q: "" };

export const imageKeys = {
  all: ["images"] as const,
  /** Every list, whatever its filters: what a change to any image invalidates. */
  lists: () => [...imageKeys.all, "list"] as const,
  list: (filters: ImageFilters) => [...imageKeys.lists(), { tags: [...filters.tags], q: filters.q.trim() }] as const,
  detail: (id: string) => [...imageKeys.all, "detail", id] as const,
};

/** The gallery: the API's keyset pages, newest first, narrowed by `filters`. */
export function useImageList(filters: ImageFilters = NO_FILTERS) {
  return useInfiniteQuery({
    queryKey: imageKeys.list(filters),
    queryFn: ({ pageParam, signal }) => listImages({ limit: PAGE_SIZE, cursor: pageParam, filters }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/** The image from any of the gallery's lists that holds it, with when that list was read. */
function fromLists(client: QueryClient, id: string): { image: ImageMetadata; updatedAt: number } | undefined {
  for (const [key, list] of client.getQueriesData<InfiniteData<ImageList>>({ queryKey: imageKeys.lists() })) {
    const image = list?.pages.flatMap((page) => page.items).find((item) => item.id === id);
    if (image) return { image, updatedAt: client.getQueryState(key)?.dataUpdatedAt ?? 0 };
  }
  return undefined;
}

/**
 * One image with its ETag. A list's copy is shown at once, but it has no ETag (lists carry
 * none), so it counts as stale and the image is read again at once: an edit needs the ETag.
 */
export function useImage(id: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: imageKeys.detail(id),
    queryFn: ({ signal }) => getImage(id, signal),
    initialData: (): VersionedImage | undefined => {
      const listed = fromLists(client, id);
      return listed && { image: listed.image, etag: null };
    },
    initialDataUpdatedAt: () => fromLists(client, id)?.updatedAt,
    staleTime: (query) => (query.state.data?.etag ? 30_000 : 0),
  });
}

/** Whether an edit was refused because the image changed since it was read (412). */
export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.status === 412;
}

/**
 * Edits an image: a merge patch sent with `If-Match` (the ETag it was read with). On a
 * conflict (412) the image is read again, so the form shows what is there now.
 */
export function useEditImage(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ etag, patch }: { etag: string; patch: ImagePatch }) => editImage(id, etag, patch),
    onSuccess: (edited) => {
      client.setQueryData(imageKeys.detail(id), edited);
      return client.invalidateQueries({ queryKey: imageKeys.lists() });
    },
    onError: (error) => {
      if (isConflict(error)) return client.invalidateQueries({ queryKey: imageKeys.detail(id) });
    },
  });
}

/**
 * Deletes an image. `onDeleted` runs first (to leave the image's page), so that dropping its
 * cached metadata does not make a still-mounted page fetch it again.
 */
export function useDeleteImage({ onDeleted }: { onDeleted?: (id: string) => void } = {}) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => deleteImage(id),
    onSuccess: (_, id) => {
      onDeleted?.(id);
      client.removeQueries({ queryKey: imageKeys.detail(id) });
      return client.invalidateQueries({ queryKey: imageKeys.lists() });
    },
  });
}

export interface UploadVariables extends UploadOptions {
  file: File;
}

export function useUploadImage() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ file, ...options }: UploadVariables) => uploadImage(file, options),
    onSuccess: (image) => {
      // No ETag in an upload's answer: the image page reads it again before an edit.
      client.setQueryData<VersionedImage>(imageKeys.detail(image.id), { image, etag: null });
      return client.invalidateQueries({ queryKey: imageKeys.lists() });
    },
  });
}
