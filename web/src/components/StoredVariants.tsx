import { useId, useState } from "react";
import type { VariantView } from "@imgedge/api-client";
import { errorMessage } from "../api/errors";
import { useDeleteVariant, useVariants } from "../hooks/variants";
import { formatByteCount, formatBytes, formatDate } from "../lib/format";
import { Spinner } from "./Spinner";

/**
 * The variants stored for an image (what its URLs have rendered), read when opened. A
 * deleted one is purged from the CDN and renders afresh on its next request.
 */
export function StoredVariants({ imageId }: { imageId: string }) {
  const [open, setOpen] = useState(false);
  const titleId = useId();
  return (
    <section className="panel" aria-labelledby={titleId}>
      <details onToggle={(event) => setOpen(event.currentTarget.open)}>
        <summary>
          <h2 id={titleId} className="inline-heading">
            Stored variants
          </h2>
        </summary>
        {open && <VariantTable imageId={imageId} />}
      </details>
    </section>
  );
}

function VariantTable({ imageId }: { imageId: string }) {
  const variants = useVariants(imageId);
  const remove = useDeleteVariant(imageId);
  if (variants.isPending) return <Spinner label="Loading the variants…" />;
  if (variants.isError) {
    return (
      <p className="error" role="alert">
        The variants could not be loaded: {errorMessage(variants.error)}
      </p>
    );
  }
  const items = variants.data.pages.flatMap((page) => page.items);
  if (items.length === 0) return <p className="muted small">None yet: a URL's first request renders and stores it.</p>;
  return (
    <>
      <table className="variants">
        <thead>
          <tr>
            <th scope="col">Query</th>
            <th scope="col">Format</th>
            <th scope="col">Size</th>
            <th scope="col">Rendered</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((variant) => (
            <VariantRow
              key={variant.sig}
              variant={variant}
              deleting={remove.isPending && remove.variables === variant.sig}
              onDelete={() => remove.mutate(variant.sig)}
            />
          ))}
        </tbody>
      </table>
      {remove.isError && (
        <p className="error" role="alert">
          {errorMessage(remove.error)}
        </p>
      )}
      {variants.hasNextPage && (
        <button
          type="button"
          className="button secondary small"
          disabled={variants.isFetchingNextPage}
          onClick={() => void variants.fetchNextPage()}
        >
          {variants.isFetchingNextPage ? "Loading…" : "More variants"}
        </button>
      )}
    </>
  );
}

function VariantRow({ variant, deleting, onDelete }: { variant: VariantView; deleting: boolean; onDelete: () => void }) {
  const query = variant.canonical_query || "(the original)";
  // A format=auto variant has one object per accept class rendered so far.
  const formats = variant.objects?.length ? variant.objects.map((o) => `${o.class}: ${o.format}`).join(", ") : variant.format;
  return (
    <tr data-sig={variant.sig}>
      <td className="mono">
        <a href={variant.url} target="_blank" rel="noreferrer">
          {query}
        </a>
      </td>
      <td>{formats}</td>
      <td title={formatByteCount(variant.bytes)}>{formatBytes(variant.bytes)}</td>
      <td>{formatDate(variant.created_at)}</td>
      <td>
        <button
          type="button"
          className="button danger-outline small"
          aria-label={`Delete variant ${query}`}
          disabled={deleting}
          onClick={onDelete}
        >
          {deleting ? "Deleting…" : "Delete"}
        </button>
      </td>
    </tr>
  );
}
