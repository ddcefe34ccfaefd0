/** Human-readable numbers for the UI. */

const units = ["B", "KB", "MB", "GB"] as const;

/** `1536` → `1.5 KB` (powers of 1024, as file managers show). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** Exact byte count with grouping: `12,345 bytes`. */
export function formatByteCount(bytes: number): string {
  return `${bytes.toLocaleString("en-US")} bytes`;
}

export function formatDimensions(width: number, height: number): string {
  return `${width} × ${height}`;
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** `image/webp` → `webp`. */
export function formatFromContentType(contentType: string): string {
  return contentType.split(";")[0].trim().replace(/^image\//, "");
}

/** What an image is called in the UI: its title, else its file's name. */
export function imageName(image: { title?: string | null; filename?: string | null }): string {
  return image.title || image.filename || "Untitled image";
}
