import type { ImageMetadata } from "@imgedge/api-client";
import { errorMessage } from "../api/errors";
import { formatByteCount, formatBytes, formatDimensions, formatFromContentType } from "../lib/format";
import { useVariant } from "../hooks/useVariant";
import { isAutoFormat } from "../transform";
import { BlobImage } from "./BlobImage";
import { Spinner } from "./Spinner";

/** The variant at `path` as the edge serves it, with what its response says. */
export function VariantPreview({ image, path }: { image: ImageMetadata; path: string | null }) {
  const variant = useVariant(path);
  const data = variant.data;
  const loading = variant.isFetching || (path !== null && data?.path !== path && !variant.isError);
  const hit = data?.cache?.toLowerCase().startsWith("hit") ?? false;
  // format=auto: the format is the one this browser's Accept chose, as the response says.
  const auto = data ? isAutoFormat(data.path.split("?")[1] ?? "") : false;

  return (
    <section className="preview" aria-label="Preview">
      <figure className="preview-frame" aria-busy={loading} data-path={data?.path ?? ""}>
        {data ? (
          <BlobImage
            blob={data.blob}
            alt={`Preview of ${image.filename ?? "the image"} with these settings`}
            className="preview-image"
          />
        ) : (
          !variant.isError && <Spinner label="Rendering the preview…" block />
        )}
        {loading && data && (
          <div className="preview-overlay">
            <Spinner label="Rendering the preview…" />
          </div>
        )}
      </figure>

      {variant.isError && (
        <p className="error" role="alert">
          The edge refused this variant: {errorMessage(variant.error)}
        </p>
      )}

      {data && (
        <dl className="stats" aria-label="Variant" aria-live="polite">
          <div>
            <dt title={auto ? "format=auto: what this browser's Accept header got" : undefined}>
              Format{auto && " (auto)"}
            </dt>
            <dd data-stat="format" data-auto={auto}>
              {formatFromContentType(data.contentType)}
            </dd>
          </div>
          <div>
            <dt>Dimensions</dt>
            <dd data-stat="dimensions">
              {data.width !== undefined && data.height !== undefined ? formatDimensions(data.width, data.height) : "unknown"}
            </dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd data-stat="bytes" data-bytes={data.bytes} title={formatByteCount(data.bytes)}>
              {formatBytes(data.bytes)}
            </dd>
          </div>
          <div>
            <dt>Edge cache</dt>
            <dd data-stat="cache">
              <span className={`badge ${hit ? "hit" : "miss"}`}>{data.cache ?? "not reported"}</span>
            </dd>
          </div>
          <div>
            <dt>Origin</dt>
            <dd data-stat="origin">{data.origin ?? (hit ? "edge cache" : "not reported")}</dd>
          </div>
          <div>
            <dt>Time</dt>
            <dd data-stat="time">{Math.round(data.elapsedMs)} ms</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
