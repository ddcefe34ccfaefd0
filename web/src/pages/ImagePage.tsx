import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { errorMessage, ApiError } from "../api/errors";
import type { ImageMetadata } from "@imgedge/api-client";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { CopyButton } from "../components/CopyButton";
import { ImageDetailsEditor } from "../components/ImageDetailsEditor";
import { ImageFocus } from "../components/ImageFocus";
import { PresetForm } from "../components/PresetForm";
import { PresetLinks } from "../components/PresetLinks";
import { StoredVariants } from "../components/StoredVariants";
import { Spinner } from "../components/Spinner";
import { TransformBuilder } from "../components/TransformBuilder";
import { VariantPreview } from "../components/VariantPreview";
import { useDeleteImage, useImage } from "../hooks/images";
import { useDebouncedValue } from "../hooks/useDebouncedValue";
import { DEFAULT_VALUES, buildVariant, builderParams, builderQuery, type BuilderValues } from "../lib/builder";
import { formatByteCount, formatBytes, formatDate, formatDimensions, imageName } from "../lib/format";
import { absoluteUrl, densitySnippet, srcsetSnippet } from "../lib/variants";
import { NotFoundPage } from "./NotFoundPage";

/** How long the controls must rest before the preview follows. */
const PREVIEW_DELAY_MS = 350;

export function ImagePage() {
  const { id = "" } = useParams();
  const image = useImage(id);
  if (image.isPending) return <Spinner label="Loading the image…" block />;
  if (image.isError) {
    if (image.error instanceof ApiError && (image.error.status === 404 || image.error.status === 400)) {
      return <NotFoundPage what="image" />;
    }
    return (
      <div className="notice" role="alert">
        <p>The image could not be loaded: {errorMessage(image.error)}</p>
        <button type="button" className="button secondary" onClick={() => void image.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  return <ImageView key={image.data.image.id} image={image.data.image} etag={image.data.etag} />;
}

function ImageView({ image, etag }: { image: ImageMetadata; etag: string | null }) {
  const [values, setValues] = useState<BuilderValues>(DEFAULT_VALUES);
  const settled = useDebouncedValue(values, PREVIEW_DELAY_MS);
  const current = useMemo(() => buildVariant(image, values), [image, values]);
  const previewed = useMemo(() => buildVariant(image, settled), [image, settled]);
  const name = imageName(image);
  const presetQuery = useMemo(() => builderQuery(values), [values]);

  const origin = window.location.origin;
  const url = current.ok ? absoluteUrl(current.variant.path, origin) : null;
  const snippet = useMemo(
    () => (current.ok ? srcsetSnippet(image, builderParams(values), origin, name) : null),
    [current.ok, image, values, origin, name],
  );
  const densities = useMemo(
    () => (current.ok ? densitySnippet(image, builderParams(values), origin, name) : null),
    [current.ok, image, values, origin, name],
  );

  return (
    <article className="image-page">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/">← All images</Link>
      </nav>
      <div className="page-head">
        <h1 className="truncate" title={name}>
          {name}
        </h1>
        <DeleteImage image={image} />
      </div>

      <div className="workbench">
        <VariantPreview image={image} path={previewed.ok ? previewed.variant.path : null} />
        <TransformBuilder
          values={values}
          onChange={setValues}
          error={current.ok ? null : current}
          image={image}
        />
      </div>

      <ImageFocus image={image} etag={etag} values={values} />

      <section className="panel" aria-labelledby="url-title">
        <h2 id="url-title">URL</h2>
        {url ? (
          <>
            <div className="copy-row">
              <input
                className="mono"
                readOnly
                value={url}
                aria-label="Canonical URL of this variant"
                onFocus={(event) => event.currentTarget.select()}
              />
              <CopyButton text={url} label="Copy URL" className="button primary" />
            </div>
            <p className="muted small">
              Canonical query: <code>{current.ok && (current.variant.canonicalQuery || "(empty: the original)")}</code>
              {" · "}signed in this browser with the image's key: no request to the API.
            </p>
          </>
        ) : (
          <p className="error">{!current.ok && current.message}</p>
        )}
      </section>

      {snippet && (
        <section className="panel" aria-labelledby="srcset-title">
          <div className="panel-head">
            <h2 id="srcset-title">Responsive image</h2>
            <CopyButton text={snippet} label="Copy HTML" />
          </div>
          <p className="muted small">These settings at several widths, for the browser to choose from.</p>
          <pre className="snippet" tabIndex={0} aria-label="HTML snippet">
            <code>{snippet}</code>
          </pre>

          <div className="panel-head subhead">
            <h3 id="density-title">By pixel density</h3>
            {densities && <CopyButton text={densities} label="Copy density HTML" />}
          </div>
          {densities ? (
            <>
              <p className="muted small">
                This size at 1x, 2x and 3x (<code>dpr</code>): the same layout, sharper on denser screens.
              </p>
              <pre className="snippet" tabIndex={0} aria-label="Density srcset HTML" aria-describedby="density-title">
                <code>{densities}</code>
              </pre>
            </>
          ) : (
            <p className="muted small">Set a width or a height for URLs by pixel density (dpr needs one).</p>
          )}
        </section>
      )}

      {presetQuery !== null && (
        <section className="panel" aria-labelledby="save-preset-title">
          <h2 id="save-preset-title">Save as a preset</h2>
          <p className="muted small">
            These settings (<code>{presetQuery || "the original"}</code>) under a name: every image gets its URL, with its own
            focus.
          </p>
          <PresetForm query={presetQuery} />
        </section>
      )}

      <PresetLinks image={image} />
      <ImageDetailsEditor image={image} etag={etag} />
      <StoredVariants imageId={image.id} />

      <section className="panel" aria-labelledby="details-title">
        <h2 id="details-title">Details</h2>
        <dl className="details">
          <dt>Format</dt>
          <dd>{image.format}</dd>
          <dt>Dimensions</dt>
          <dd>{formatDimensions(image.width, image.height)}</dd>
          {image.frames > 1 && (
            <>
              <dt>Frames</dt>
              <dd>{image.frames}</dd>
            </>
          )}
          <dt>Size</dt>
          <dd title={formatByteCount(image.bytes)}>{formatBytes(image.bytes)}</dd>
          <dt>Uploaded</dt>
          <dd>{formatDate(image.created_at)}</dd>
          <dt>Id</dt>
          <dd className="mono">{image.id}</dd>
          <dt>BLAKE3</dt>
          <dd className="mono truncate" title={image.blake3}>
            {image.blake3}
          </dd>
        </dl>
      </section>
    </article>
  );
}

function DeleteImage({ image }: { image: ImageMetadata }) {
  const [open, setOpen] = useState(false);
  const navigate = useNavigate();
  const remove = useDeleteImage({ onDeleted: () => navigate("/", { replace: true }) });
  return (
    <>
      <button type="button" className="button danger-outline" onClick={() => setOpen(true)}>
        Delete
      </button>
      <ConfirmDialog
        open={open}
        title="Delete this image?"
        confirmLabel="Delete image"
        pending={remove.isPending}
        error={remove.isError ? errorMessage(remove.error) : null}
        onClose={() => {
          if (!remove.isPending) {
            setOpen(false);
            remove.reset();
          }
        }}
        onConfirm={() => remove.mutate(image.id)}
      >
        <p>
          <strong>{image.filename ?? "This image"}</strong> and every variant of it will be removed, and its URLs will
          stop working everywhere. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
