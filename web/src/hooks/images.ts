/** Server state of images with TanStack Query: keys, queries and mutations. */
import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
} from "@tanstack/react-query";
import { deleteImage, getImage, listImages, uploadImage, type UploadOptions } from "../api/images";
import type { ImageList, ImageMetadata } from "@imgedge/api-client";

export const PAGE_SIZE = 24;

export const imageKeys = {
  all: ["images"] as const,
  list: () => [...imageKeys.all, "list"] as const,
  detail: (id: string) => [...imageKeys.all, "detail", id] as const,
};

/** The gallery: the API's keyset pages, newest first. */
export function useImageList() {
  return useInfiniteQuery({
    queryKey: imageKeys.list(),
    queryFn: ({ pageParam, signal }) => listImages({ limit: PAGE_SIZE, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/** The image from the gallery's pages, if they hold it: shown at once, then revalidated. */
function fromList(client: QueryClient, id: string): ImageMetadata | undefined {
  const list = client.getQueryData<InfiniteData<ImageList>>(imageKeys.list());
  return list?.pages.flatMap((page) => page.items).find((image) => image.id === id);
}

export function useImage(id: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: imageKeys.detail(id),
    queryFn: ({ signal }) => getImage(id, signal),
    initialData: () => fromList(client, id),
    initialDataUpdatedAt: () => client.getQueryState(imageKeys.list())?.dataUpdatedAt,
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
      return client.invalidateQueries({ queryKey: imageKeys.list() });
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
      client.setQueryData(imageKeys.detail(image.id), image);
      return client.invalidateQueries({ queryKey: imageKeys.list() });
    },
  });
}
