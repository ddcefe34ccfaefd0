import { useId } from "react";
import type { ImageMetadata } from "@imgedge/api-client";
import { errorMessage } from "../api/errors";
import { isConflict, useEditImage } from "../hooks/images";
import type { BuilderValues } from "../lib/builder";
import { focusOfForm } from "../lib/focus";

/**
 * The image's focus: the point a `cover` crop keeps when it names no gravity, in this
 * builder, in the URLs the API mints and in presets. The owner saves the builder's focal
 * point as the focus (a point of the whole original), or clears it.
 */
export function ImageFocus({ image, etag, values }: { image: ImageMetadata; etag: string | null; values: BuilderValues }) {
  const edit = useEditImage(image.id);
  const titleId = useId();
  const chosen = focusOfForm(values, image);
  const focus = image.focus ?? null;
  const same = chosen !== null && focus !== null && chosen.x === focus.x && chosen.y === focus.y;
  const save = (next: { x: number; y: number } | null) => etag && edit.mutate({ etag, patch: { focus: next } });
  return (
    <section className="panel" aria-labelledby={titleId}>
      <h2 id={titleId}>Focus</h2>
      <p className="muted small" data-saved-focus={focus ? `${focus.x},${focus.y}` : ""}>
        {focus
          ? `At ${focus.x}, ${focus.y} of the image: a cover crop that names no gravity keeps this point, here, in minted URLs and in presets.`
          : "None: a cover crop that names no gravity keeps the centre."}
      </p>
      <div className="with-buttons">
        <button
          type="button"
          className="button secondary"
          disabled={chosen === null || same || !etag || edit.isPending}
          onClick={() => save(chosen)}
        >
          Save the focal point as the image's focus
        </button>
        {focus && (
          <button type="button" className="button ghost" disabled={!etag || edit.isPending} onClick={() => save(null)}>
            Clear focus
          </button>
        )}
      </div>
      {chosen === null && <p className="hint">Choose “Focal point” under Gravity, then click the image, to set one.</p>}
      {edit.isError && (
        <p className="error" role="alert">
          {isConflict(edit.error)
            ? "This image was changed elsewhere meanwhile; it has been reloaded. Save the focus again."
            : errorMessage(edit.error)}
        </p>
      )}
    </section>
  );
}
