import { Link } from "react-router";
import type { ImageMetadata } from "@imgedge/api-client";
import { formatDimensions } from "../lib/format";
import { THUMBNAIL, thumbnailPath } from "../lib/variants";

/** The thumbnail's own size: 320 wide, never enlarged. */
function thumbnailSize(image: ImageMetadata): { width: number; height: number } {
  const width = Math.min(THUMBNAIL.width ?? image.width, image.width);
  return { width, height: Math.max(1, Math.round((image.height * width) / image.width)) };
}

export function ImageGrid({ images }: { images: ImageMetadata[] }) {
  return (
    <ul className="grid" aria-label="Images">
      {images.map((image) => {
        const name = image.filename ?? "Untitled image";
        return (
          <li key={image.id} className="tile">
            <Link to={`/images/${image.id}`} className="tile-link">
              <img
                src={thumbnailPath(image)}
                {...thumbnailSize(image)}
                alt={name}
                loading="lazy"
                decoding="async"
                className="thumb"
              />
              <span className="tile-caption">
                <span className="tile-name">{name}</span>
                <span className="muted small">{formatDimensions(image.width, image.height)}</span>
              </span>
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
