/** An image's stored variants with TanStack Query. */
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { deleteVariant, listVariants } from "../api/variants";
import { imageKeys } from "./images";

export const variantKeys = {
  list: (id: string) => [...imageKeys.detail(id), "variants"] as const,
};

export function useVariants(id: string) {
  return useInfiniteQuery({
    queryKey: variantKeys.list(id),
    queryFn: ({ pageParam, signal }) => listVariants(id, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useDeleteVariant(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (sig: string) => deleteVariant(id, sig),
    onSuccess: () => client.invalidateQueries({ queryKey: variantKeys.list(id) }),
  });
}
