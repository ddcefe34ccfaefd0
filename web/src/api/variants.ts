/** An image's stored variants: list them, delete one (its URL renders afresh on its next request). */
import type { VariantList } from "@imgedge/api-client";
import { api } from "./client";
import { dataOf } from "./result";

export function listVariants(id: string, cursor: string | undefined, signal?: AbortSignal): Promise<VariantList> {
  return dataOf(
    api.GET("/v1/images/{id}/variants", { params: { path: { id }, query: { limit: 20, cursor } }, signal }),
    signal,
  );
}

export async function deleteVariant(id: string, sig: string): Promise<void> {
  await dataOf(api.DELETE("/v1/images/{id}/variants/{sig}", { params: { path: { id, sig } } }));
}
