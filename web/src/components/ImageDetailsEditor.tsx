import { useId, useState } from "react";
import type { ImageMetadata, ImagePatch } from "@imgedge/api-client";
import { errorMessage } from "../api/errors";
import { isConflict, useEditImage } from "../hooks/images";
import { MAX_ALT, MAX_TITLE, detailsFormOf, detailsPatch, type DetailsForm } from "../lib/details";
import { parseTags, tagsProblem } from "../lib/tags";
import { TagList } from "./TagList";

/** The conflict's message: the edit was refused, the image read again, the typed changes kept. */
const CONFLICT_MESSAGE =
  "This image was changed elsewhere since this page loaded it, so your edit was not saved. " +
  "It has been reloaded; your changes are still in the form: check them and save again.";

/**
 * The image's description: alt text, title and tags, saved as a merge patch that names the
 * version read (`If-Match`). A conflict (412) reloads the image and says so; what was typed
 * stays, and the next save names the new version. After a save the form starts afresh from
 * what the API kept (tags lowered and sorted).
 */
export function ImageDetailsEditor({ image, etag }: { image: ImageMetadata; etag: string | null }) {
  const edit = useEditImage(image.id);
  const [saves, setSaves] = useState(0);
  const titleId = useId();
  return (
    <section className="panel" aria-labelledby={titleId}>
      <h2 id={titleId}>Description</h2>
      {isConflict(edit.error) && (
        <p className="notice warn" role="alert">
          {CONFLICT_MESSAGE}
        </p>
      )}
      <DetailsEditForm
        key={saves}
        image={image}
        etag={etag}
        pending={edit.isPending}
        error={edit.isError && !isConflict(edit.error) ? errorMessage(edit.error) : null}
        saved={edit.isSuccess}
        onEdit={() => {
          if (!edit.isPending) edit.reset();
        }}
        onSave={(patch) => etag && edit.mutate({ etag, patch }, { onSuccess: () => setSaves((n) => n + 1) })}
      />
      <TagList tags={image.tags} />
    </section>
  );
}

interface FormProps {
  image: ImageMetadata;
  etag: string | null;
  pending: boolean;
  error: string | null;
  saved: boolean;
  /** The form changed: a previous outcome no longer describes it. */
  onEdit: () => void;
  onSave: (patch: ImagePatch) => void;
}

function sameForm(a: DetailsForm, b: DetailsForm): boolean {
  return a.alt === b.alt && a.decorative === b.decorative && a.title === b.title && a.tags === b.tags;
}

function DetailsEditForm({ image, etag, pending, error, saved, onEdit, onSave }: FormProps) {
  const id = useId();
  const [form, setForm] = useState<DetailsForm>(() => detailsFormOf(image));
  // The version the form started from. When the image changes under it (a conflict's
  // reload, the focus saved on this page), an untouched form follows; typed changes stay.
  const [base, setBase] = useState(() => ({ etag, form: form }));
  if (etag !== base.etag) {
    const next = detailsFormOf(image);
    setBase({ etag, form: next });
    if (sameForm(form, base.form)) setForm(next);
  }
  const set = <K extends keyof DetailsForm>(key: K, value: DetailsForm[K]) => {
    setForm({ ...form, [key]: value });
    onEdit();
  };
  const patch = detailsPatch(image, form);
  const changed = Object.keys(patch).length > 0;
  const tagProblem = tagsProblem(parseTags(form.tags));
  return (
    <form
      className="details-form"
      aria-label="Description"
      onSubmit={(event) => {
        event.preventDefault();
        if (changed && tagProblem === null) onSave(patch);
      }}
    >
      <div className="field">
        <label htmlFor={`${id}-alt`}>Alt text</label>
        <textarea
          id={`${id}-alt`}
          rows={2}
          maxLength={MAX_ALT}
          value={form.alt}
          disabled={form.decorative}
          aria-describedby={`${id}-alt-hint`}
          onChange={(event) => set("alt", event.currentTarget.value)}
        />
        <span id={`${id}-alt-hint`} className="hint">
          What the image shows, for people who cannot see it ({form.alt.length}/{MAX_ALT})
        </span>
      </div>
      <label className="toggle">
        <input
          type="checkbox"
          checked={form.decorative}
          onChange={(event) => set("decorative", event.currentTarget.checked)}
        />
        Decorative (no alt text: screen readers skip it)
      </label>
      <div className="field">
        <label htmlFor={`${id}-title`}>Title</label>
        <input
          id={`${id}-title`}
          type="text"
          maxLength={MAX_TITLE}
          placeholder={image.filename ?? ""}
          value={form.title}
          onChange={(event) => set("title", event.currentTarget.value)}
        />
      </div>
      <div className={`field${tagProblem ? " invalid" : ""}`}>
        <label htmlFor={`${id}-tags`}>Tags</label>
        <input
          id={`${id}-tags`}
          type="text"
          autoComplete="off"
          placeholder="beach, sunset"
          value={form.tags}
          aria-invalid={tagProblem !== null}
          aria-describedby={`${id}-tags-hint`}
          onChange={(event) => set("tags", event.currentTarget.value)}
        />
        <span id={`${id}-tags-hint`} className={tagProblem ? "error small" : "hint"}>
          {tagProblem ?? "Separated by commas or spaces: lowercase letters, digits and hyphens"}
        </span>
      </div>
      <div className="with-buttons">
        <button type="submit" className="button primary" disabled={!changed || !etag || pending || tagProblem !== null}>
          {pending ? "Saving…" : etag ? "Save description" : "Loading…"}
        </button>
        <span aria-live="polite" className="muted small">
          {saved && !changed ? "Saved." : ""}
        </span>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
