import { memo } from "react";
import { Link } from "react-router";
import { formatBytes } from "../lib/format";
import type { UploadItem, UploadQueue } from "../uploads/queue";
import { useUploadQueue } from "../uploads/UploadsProvider";

const STATUS_TEXT: Record<UploadItem["status"], string> = {
  queued: "Waiting",
  uploading: "Uploading",
  done: "Uploaded",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** A row re-renders only when its own item changes (items are replaced, never mutated). */
const UploadRow = memo(function UploadRow({ item, queue }: { item: UploadItem; queue: UploadQueue }) {
  const percent = Math.round(item.progress * 100);
  return (
    <li className={`upload upload-${item.status}`} data-upload-status={item.status}>
      <div className="upload-head">
        <span className="upload-name" title={item.file.name}>
          {item.file.name || "Unnamed file"}
        </span>
        <span className="muted small">{formatBytes(item.file.size)}</span>
      </div>
      <progress
        max={100}
        value={item.status === "queued" ? undefined : percent}
        aria-label={`Upload of ${item.file.name}`}
        aria-valuetext={`${STATUS_TEXT[item.status]}, ${percent}%`}
      />
      <div className="upload-foot">
        <span className="small">
          {STATUS_TEXT[item.status]}
          {item.status === "uploading" && ` · ${percent}%`}
        </span>
        {item.error && (
          <span className="error small" role="alert">
            {item.error}
          </span>
        )}
        <span className="upload-actions">
          {item.status === "done" && item.image && (
            <Link className="small" to={`/images/${item.image.id}`}>
              Open
            </Link>
          )}
          {(item.status === "queued" || item.status === "uploading") && (
            <button type="button" className="link small" onClick={() => queue.cancel(item.id)}>
              Cancel
            </button>
          )}
          {(item.status === "cancelled" || (item.status === "failed" && item.retryable)) && (
            <button type="button" className="link small" onClick={() => queue.retry(item.id)}>
              Retry
            </button>
          )}
        </span>
      </div>
    </li>
  );
});

/** One row per file: a progress bar, and the server's message when it refused the file. */
export function UploadList() {
  const { queue, items } = useUploadQueue();
  if (items.length === 0) return null;
  const finished = items.some((item) => item.status !== "queued" && item.status !== "uploading");
  return (
    <section className="uploads" aria-label="Uploads">
      <ul className="upload-list">
        {items.map((item) => (
          <UploadRow key={item.id} item={item} queue={queue} />
        ))}
      </ul>
      {finished && (
        <button type="button" className="button ghost small" onClick={() => queue.clearFinished()}>
          Clear finished
        </button>
      )}
    </section>
  );
}
