import { useId, type ReactNode } from "react";
import { DEFAULT_VALUES, fitApplies, type BuilderValues } from "../lib/builder";
import {
  DEFAULT_QUALITY,
  FITS,
  MAX_BLUR,
  MAX_DIMENSION,
  MAX_WATERMARK_CHARS,
  OUTPUT_FORMATS,
  scalarLength,
  type ParamName,
} from "../transform";

interface TransformBuilderProps {
  values: BuilderValues;
  onChange: (values: BuilderValues) => void;
  /** The parameter the spec refuses, with why. */
  error?: { param: ParamName | undefined; message: string } | null;
  /** The original's format, for the "keep" choice. */
  sourceFormat: string;
}

const FIT_HELP: Record<(typeof FITS)[number], string> = {
  cover: "cover: fill the box, crop the overflow",
  contain: "contain: fit inside, letterbox the rest",
  fill: "fill: stretch to the box",
  inside: "inside: fit inside, no letterbox",
  outside: "outside: cover the box, no crop",
};

function Field({
  label,
  name,
  error,
  hint,
  children,
}: {
  label: string;
  name: ParamName;
  error?: TransformBuilderProps["error"];
  hint?: ReactNode;
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}) {
  const id = useId();
  const invalid = error?.param === name;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, invalid ? errorId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field${invalid ? " invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, describedBy, invalid })}
      {hint && (
        <span id={hintId} className="hint">
          {hint}
        </span>
      )}
      {invalid && (
        <span id={errorId} className="error small" role="alert">
          {error.message}
        </span>
      )}
    </div>
  );
}

function Toggle({ label, checked, onChange }: { label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label className="toggle">
      <input type="checkbox" checked={checked} onChange={(event) => onChange(event.currentTarget.checked)} />
      {label}
    </label>
  );
}

/** A control for every parameter of the spec; the preview follows as values change. */
export function TransformBuilder({ values, onChange, error, sourceFormat }: TransformBuilderProps) {
  const set = <K extends keyof BuilderValues>(key: K, value: BuilderValues[K]) => onChange({ ...values, [key]: value });
  const watermarkLength = scalarLength(values.watermarkText.normalize("NFC"));

  return (
    <form className="builder" aria-label="Transform" onSubmit={(event) => event.preventDefault()}>
      <fieldset>
        <legend>Size</legend>
        <div className="row">
          <Field label="Width" name="width" error={error}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                type="number"
                inputMode="numeric"
                min={1}
                max={MAX_DIMENSION}
                placeholder="auto"
                value={values.width}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onChange={(event) => set("width", event.currentTarget.value)}
              />
            )}
          </Field>
          <Field label="Height" name="height" error={error}>
            {({ id, describedBy, invalid }) => (
              <input
                id={id}
                type="number"
                inputMode="numeric"
                min={1}
                max={MAX_DIMENSION}
                placeholder="auto"
                value={values.height}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onChange={(event) => set("height", event.currentTarget.value)}
              />
            )}
          </Field>
        </div>
        <Field
          label="Fit"
          name="fit"
          error={error}
          hint={fitApplies(values) ? FIT_HELP[values.fit] : "Applies when both width and height are set"}
        >
          {({ id, describedBy }) => (
            <select
              id={id}
              value={values.fit}
              aria-describedby={describedBy}
              onChange={(event) => set("fit", event.currentTarget.value as BuilderValues["fit"])}
            >
              {FITS.map((fit) => (
                <option key={fit} value={fit}>
                  {fit}
                </option>
              ))}
            </select>
          )}
        </Field>
      </fieldset>

      <fieldset>
        <legend>Orientation</legend>
        <Field label="Rotate (degrees, clockwise)" name="rotate" error={error}>
          {({ id, describedBy, invalid }) => (
            <div className="with-buttons">
              <input
                id={id}
                type="number"
                inputMode="numeric"
                step={90}
                value={values.rotate}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onChange={(event) => set("rotate", event.currentTarget.value)}
              />
              <button
                type="button"
                className="button secondary small"
                aria-label="Rotate 90 degrees clockwise"
                onClick={() => set("rotate", String(((Number(values.rotate) || 0) + 90) % 360))}
              >
                ↻ 90°
              </button>
            </div>
          )}
        </Field>
        <div className="toggles">
          <Toggle label="Flip (top to bottom)" checked={values.flip} onChange={(v) => set("flip", v)} />
          <Toggle label="Mirror (left to right)" checked={values.mirror} onChange={(v) => set("mirror", v)} />
        </div>
      </fieldset>

      <fieldset>
        <legend>Effects</legend>
        <div className="toggles">
          <Toggle label="Grayscale" checked={values.grayscale} onChange={(v) => set("grayscale", v)} />
        </div>
        <Field label="Blur (sigma)" name="blur" error={error} hint={`0 for none, or 0.3 to ${MAX_BLUR}`}>
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              type="number"
              inputMode="decimal"
              min={0}
              max={MAX_BLUR}
              step={0.5}
              value={values.blur}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(event) => set("blur", event.currentTarget.value)}
            />
          )}
        </Field>
        <Field
          label="Watermark text"
          name="watermarkText"
          error={error}
          hint={`${watermarkLength}/${MAX_WATERMARK_CHARS} characters`}
        >
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              type="text"
              placeholder="© Your name"
              autoComplete="off"
              value={values.watermarkText}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(event) => set("watermarkText", event.currentTarget.value)}
            />
          )}
        </Field>
      </fieldset>

      <fieldset>
        <legend>Output</legend>
        <Field label="Format" name="format" error={error}>
          {({ id, describedBy }) => (
            <select
              id={id}
              value={values.format}
              aria-describedby={describedBy}
              onChange={(event) => set("format", event.currentTarget.value as BuilderValues["format"])}
            >
              <option value="">Original ({sourceFormat})</option>
              {OUTPUT_FORMATS.map((format) => (
                <option key={format} value={format}>
                  {format}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Quality"
          name="quality"
          error={error}
          hint={`${values.quality}${values.quality === String(DEFAULT_QUALITY) ? " (default)" : ""}`}
        >
          {({ id, describedBy }) => (
            <input
              id={id}
              type="range"
              min={1}
              max={100}
              value={values.quality}
              aria-describedby={describedBy}
              onChange={(event) => set("quality", event.currentTarget.value)}
            />
          )}
        </Field>
      </fieldset>

      <button type="button" className="button ghost" onClick={() => onChange(DEFAULT_VALUES)}>
        Reset all
      </button>
    </form>
  );
}
