import { useId } from "react";
import type { ImageMetadata } from "@imgedge/api-client";
import { absoluteUrl } from "../lib/variants";
import { CopyButton } from "./CopyButton";

const STATE_LABEL = { pending: "rendering ahead", ready: "rendered", failed: "render failed" } as const;

/** The image's URL for each of the owner's presets, signed by the API (with the image's focus). */
export function PresetLinks({ image }: { image: ImageMetadata }) {
  const titleId = useId();
  const links = Object.entries(image.presets).sort(([a], [b]) => a.localeCompare(b));
  if (links.length === 0) return null;
  return (
    <section className="panel" aria-labelledby={titleId}>
      <h2 id={titleId}>Preset URLs</h2>
      <ul className="preset-links">
        {links.map(([name, link]) => {
          const url = absoluteUrl(link.url);
          return (
            <li key={name}>
              <span className="preset-name">{name}</span>
              {link.state && <span className={`badge ${link.state}`}>{STATE_LABEL[link.state]}</span>}
              <input className="mono" readOnly value={url} aria-label={`URL of preset ${name}`} />
              <CopyButton text={url} label="Copy" className="button secondary small" />
            </li>
          );
        })}
      </ul>
    </section>
  );
}
