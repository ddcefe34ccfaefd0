import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import type { ImageFilters } from "../api/images";
import { parseTags, tagsProblem } from "../lib/tags";

/** How long typing in the search box rests before the list follows. */
const SEARCH_DELAY_MS = 300;

/** Narrows the gallery: words of the title, alt text or file name, and tags (all must match). */
export function GalleryFilters({ filters, onChange }: { filters: ImageFilters; onChange: (filters: ImageFilters) => void }) {
  const id = useId();
  return (
    <div className="filters" role="search" aria-label="Filter images">
      <SearchBox id={`${id}-q`} q={filters.q} onSearch={(q) => onChange({ ...filters, q })} />
      <TagFilter id={`${id}-tag`} tags={filters.tags} onTags={(tags) => onChange({ ...filters, tags })} />
    </div>
  );
}

function SearchBox({ id, q, onSearch }: { id: string; q: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(q);
  const [shown, setShown] = useState(q);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // The URL's `q` changed elsewhere (a link, the back button): show it (React's way of
  // adjusting state to a prop, during render).
  if (q !== shown) {
    setShown(q);
    setText(q);
  }
  useEffect(() => () => clearTimeout(timer.current), []);
  return (
    <div className="field">
      <label htmlFor={id}>Search</label>
      <input
        id={id}
        type="search"
        placeholder="Words in the title, alt text or file name"
        value={text}
        onChange={(event) => {
          const next = event.currentTarget.value;
          setText(next);
          // Searched once the typing rests, not at every key.
          clearTimeout(timer.current);
          timer.current = setTimeout(() => onSearch(next), SEARCH_DELAY_MS);
        }}
      />
    </div>
  );
}

function TagFilter({ id, tags, onTags }: { id: string; tags: readonly string[]; onTags: (tags: string[]) => void }) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const add = (event: FormEvent) => {
    event.preventDefault();
    const added = parseTags(text);
    const next = [...new Set([...tags, ...added])].sort();
    const why = tagsProblem(next);
    setProblem(why);
    if (why === null && added.length > 0) {
      onTags(next);
      setText("");
    }
  };
  return (
    <form className="tag-filter" onSubmit={add}>
      <div className={`field${problem ? " invalid" : ""}`}>
        <label htmlFor={id}>Tag</label>
        <div className="with-buttons">
          <input
            id={id}
            type="text"
            autoComplete="off"
            placeholder="e.g. beach"
            value={text}
            aria-invalid={problem !== null}
            aria-describedby={problem ? `${id}-error` : undefined}
            onChange={(event) => setText(event.currentTarget.value)}
          />
          <button type="submit" className="button secondary small">
            Filter
          </button>
        </div>
        {problem && (
          <span id={`${id}-error`} className="error small" role="alert">
            {problem}
          </span>
        )}
      </div>
      {tags.length > 0 && (
        <ul className="tags" aria-label="Filtered by tags">
          {tags.map((tag) => (
            <li key={tag}>
              <button
                type="button"
                className="tag removable"
                aria-label={`Remove tag filter ${tag}`}
                onClick={() => onTags(tags.filter((t) => t !== tag))}
              >
                {tag} <span aria-hidden="true">×</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
