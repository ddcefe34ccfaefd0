import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";
import type { ImageFilters } from "../api/images";

/**
 * The gallery's filters, kept in the page's URL (`/?tag=beach&tag=sunset&q=harbour`) so
 * that a reload, a link or the back button gives the same list.
 */
export function useGalleryFilters(): [ImageFilters, (filters: ImageFilters) => void] {
  const [params, setParams] = useSearchParams();
  const tagsKey = params.getAll("tag").join("\n");
  const q = params.get("q") ?? "";
  const filters = useMemo(() => ({ tags: tagsKey === "" ? [] : tagsKey.split("\n"), q }), [tagsKey, q]);
  const setFilters = useCallback(
    (next: ImageFilters) => {
      const search = new URLSearchParams();
      for (const tag of next.tags) search.append("tag", tag);
      if (next.q.trim() !== "") search.set("q", next.q);
      // Typing a search replaces the entry; the back button goes to the page before.
      setParams(search, { replace: true });
    },
    [setParams],
  );
  return [filters, setFilters];
}
