import { useId } from "react";
import type { GravityChoice } from "../lib/builder";

/** The compass, row by row as it reads on a map. */
const COMPASS: readonly { value: GravityChoice; label: string; glyph: string }[] = [
  { value: "northwest", label: "Northwest", glyph: "↖" },
  { value: "north", label: "North", glyph: "↑" },
  { value: "northeast", label: "Northeast", glyph: "↗" },
  { value: "west", label: "West", glyph: "←" },
  { value: "center", label: "Center", glyph: "•" },
  { value: "east", label: "East", glyph: "→" },
  { value: "southwest", label: "Southwest", glyph: "↙" },
  { value: "south", label: "South", glyph: "↓" },
  { value: "southeast", label: "Southeast", glyph: "↘" },
];

const OTHERS: readonly { value: GravityChoice; label: string; hint: string }[] = [
  { value: "attention", label: "Attention", hint: "the most salient part" },
  { value: "entropy", label: "Entropy", hint: "the part with the most detail" },
  { value: "focal", label: "Focal point", hint: "a point you choose" },
];

/**
 * Where `cover` keeps its window: one radio group (arrow keys move through it) of the nine
 * compass positions, drawn as a 3×3 grid, then the two smart crops and the focal point.
 */
export function GravityControl({
  value,
  onChange,
  describedBy,
}: {
  value: GravityChoice;
  onChange: (value: GravityChoice) => void;
  describedBy?: string;
}) {
  const name = useId();
  const radio = (choice: GravityChoice, className?: string) => (
    <input
      type="radio"
      name={name}
      value={choice}
      className={className}
      checked={value === choice}
      aria-describedby={describedBy}
      onChange={() => onChange(choice)}
    />
  );
  return (
    <div className="gravity">
      <div className="compass">
        {COMPASS.map(({ value: choice, label, glyph }) => (
          <label key={choice} className="compass-cell" title={label}>
            {radio(choice, "visually-hidden")}
            <span className="compass-face" aria-hidden="true">
              {glyph}
            </span>
            <span className="visually-hidden">{label}</span>
          </label>
        ))}
      </div>
      <div className="gravity-others">
        {OTHERS.map(({ value: choice, label, hint }) => (
          <label key={choice} className="toggle">
            {radio(choice)}
            <span>
              {label} <span className="muted small">({hint})</span>
            </span>
          </label>
        ))}
      </div>
    </div>
  );
}
