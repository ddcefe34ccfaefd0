import { useMemo, useState } from "react";
import type { ImageMetadata } from "@imgedge/api-client";
import { boxOf, placeholderColour, thumbhashDataUrl } from "../lib/placeholder";
import { THUMBNAIL, thumbnailPath } from "../lib/variants";

type LoadState = "loading" | "loaded" | "failed";

/**
 * A gallery thumbnail over its placeholder: the image's box (its aspect ratio), filled with
 * its dominant colour and its ThumbHash until the thumbnail has loaded. The placeholder is
 * SVG (a `rect` and an `image` of the hash's data URL) because the page's CSP allows no
 * inline styles: attributes carry the colour and the box.
 */
export function ImageThumbnail({ image, alt }: { image: ImageMetadata; alt: string }) {
  const [state, setState] = useState<LoadState>("loading");
  const hash = useMemo(() => thumbhashDataUrl(image.thumbhash), [image.thumbhash]);
  const colour = placeholderColour(image.dominant_color);
  const { width, height } = boxOf(image, THUMBNAIL.width ?? image.width);
  return (
    <span className="thumb-frame" data-state={state}>
      <svg
        className="thumb-placeholder"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        aria-hidden="true"
        focusable="false"
      >
        {colour && <rect width={width} height={height} fill={colour} />}
        {hash && <image href={hash} width={width} height={height} preserveAspectRatio="xMidYMid slice" />}
      </svg>
      <img
        src={thumbnailPath(image)}
        width={width}
        height={height}
        alt={alt}
        loading="lazy"
        decoding="async"
        className="thumb"
        onLoad={() => setState("loaded")}
        onError={() => setState("failed")}
      />
    </span>
  );
}
