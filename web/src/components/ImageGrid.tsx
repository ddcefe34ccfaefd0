import { Link } from "react-router";
import type { ImageMetadata } from "@imgedge/api-client";
import { formatDimensions, imageName } from "../lib/format";
import { ImageThumbnail } from "./ImageThumbnail";

export function ImageGrid({ images }: { images: ImageMetadata[] }) {
  return (
    <ul className="grid" aria-label="Images">
      {images.map((image) => {
        const name = imageName(image);
        return (
          <li key={image.id} className="tile">
            <Link to={`/images/${image.id}`} className="tile-link">
              {/* The alt text when there is one; a decorative image ("") is still this link's picture. */}
              <ImageThumbnail image={image} alt={image.alt || name} />
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
