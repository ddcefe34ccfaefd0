/** Presets: named transform queries, each with a signed URL in every image's metadata. */
import type { PresetBody, PresetList, PresetView } from "@imgedge/api-client";
import { api } from "./client";
import { dataOf } from "./result";

export function listPresets(signal?: AbortSignal): Promise<PresetList> {
  return dataOf(api.GET("/v1/presets", { signal }), signal);
}

/** Creates the preset, or replaces the one of that name. */
export function savePreset(name: string, body: PresetBody): Promise<PresetView> {
  return dataOf(api.PUT("/v1/presets/{name}", { params: { path: { name } }, body }));
}

export async function deletePreset(name: string): Promise<void> {
  await dataOf(api.DELETE("/v1/presets/{name}", { params: { path: { name } } }));
}
