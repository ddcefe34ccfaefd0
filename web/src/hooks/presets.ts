/** Presets with TanStack Query. A preset's change changes every image's `presets` too. */
import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import type { PresetBody } from "@imgedge/api-client";
import { deletePreset, listPresets, savePreset } from "../api/presets";
import { imageKeys } from "./images";

export const presetKeys = {
  all: ["presets"] as const,
};

export function usePresets() {
  return useQuery({ queryKey: presetKeys.all, queryFn: ({ signal }) => listPresets(signal) });
}

function refresh(client: QueryClient) {
  return Promise.all([
    client.invalidateQueries({ queryKey: presetKeys.all }),
    client.invalidateQueries({ queryKey: imageKeys.all }),
  ]);
}

export function useSavePreset() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, body }: { name: string; body: PresetBody }) => savePreset(name, body),
    onSuccess: () => refresh(client),
  });
}

export function useDeletePreset() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => deletePreset(name),
    onSuccess: () => refresh(client),
  });
}
