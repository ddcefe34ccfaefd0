import { useId, useState, type ReactNode } from "react";
import type { ImageMetadata } from "@imgedge/api-client";
import {
  DEFAULT_VALUES,
  backgroundParam,
  cropParam,
  dprApplies,
  fitApplies,
  gravityApplies,
  paletteMayApply,
  type BuilderValues,
  type GravityChoice,
} from "../lib/builder";
import { withCrop } from "../lib/region";
import {
  DEFAULT_QUALITY,
  FITS,
  MAX_BLUR,
  MAX_CROP_OFFSET,
  MAX_CROP_SIZE,
  MAX_DIMENSION,
  MAX_DPR,
  MAX_SHARPEN,
  MAX_WATERMARK_CHARS,
  MIN_DPR,
  MIN_SHARPEN,
  OUTPUT_FORMATS,
  scalarLength,
  type ParamName,
} from "../transform";
import { GravityControl } from "./GravityControl";
import { RegionPicker, type PickerTool } from "./RegionPicker";

interface TransformBuilderProps {
  values: BuilderValues;
  onChange: (values: BuilderValues) => void;
  /** The parameter the spec refuses, with why. */
  error?: { param: ParamName | undefined; message: string } | null;
  /** The original: its format (the "keep" choice), its size (crop) and its key (the picker's image). */
  image: ImageMetadata;
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

function Toggle({
  label,
  checked,
  onChange,
  hint,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
}) {
  const id = useId();
  return (
    <span className="toggle-field">
      <label className="toggle">
        <input
          type="checkbox"
          checked={checked}
          aria-describedby={hint ? `${id}-hint` : undefined}
          onChange={(event) => onChange(event.currentTarget.checked)}
        />
        {label}
      </label>
      {hint && (
        <span id={`${id}-hint`} className="hint">
          {hint}
        </span>
      )}
    </span>
  );
}

/** The spec's message for a parameter several inputs make up (shown once, under them). */
function GroupError({ id, name, error }: { id: string; name: ParamName; error?: TransformBuilderProps["error"] }) {
  if (error?.param !== name) return null;
  return (
    <span id={id} className="error small group-error" role="alert">
      {error.message}
    </span>
  );
}

const CROP_FIELDS = [
  { key: "cropX", label: "Crop x", max: MAX_CROP_OFFSET, min: 0 },
  { key: "cropY", label: "Crop y", max: MAX_CROP_OFFSET, min: 0 },
  { key: "cropWidth", label: "Crop width", max: MAX_CROP_SIZE, min: 1 },
  { key: "cropHeight", label: "Crop height", max: MAX_CROP_SIZE, min: 1 },
] as const;

const FORMAT_HELP: Record<string, string> = {
  auto: "auto: AVIF or WebP when the browser takes them, else JPEG (PNG with transparency); the preview shows what this browser got",
  "": "The original's format (JPEG or PNG for formats browsers do not show)",
};

/** A control for every parameter of the spec; the preview follows as values change. */
export function TransformBuilder({ values, onChange, error, image }: TransformBuilderProps) {
  const set = <K extends keyof BuilderValues>(key: K, value: BuilderValues[K]) => onChange({ ...values, [key]: value });
  const watermarkLength = scalarLength(values.watermarkText.normalize("NFC"));
  const ids = useId();
  const [pickerOpen, setPickerOpen] = useState(false);
  const [tool, setTool] = useState<PickerTool>("focal");
  const sourceFormat = image.format;
  const cropInvalid = error?.param === "crop";
  const gravityInvalid = error?.param === "gravity";
  const dpr = Number(values.dpr);

  const chooseGravity = (gravity: GravityChoice) => {
    onChange({ ...values, gravity });
    if (gravity === "focal") {
      setTool("focal");
      setPickerOpen(true);
    }
  };

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
          label="Device pixel ratio (dpr)"
          name="dpr"
          error={error}
          hint={
            dprApplies(values)
              ? `Multiplies width and height${Number.isFinite(dpr) && dpr > 1 ? ` (${dpr}×)` : ""}: ${MIN_DPR} to ${MAX_DPR}, in steps of 0.1`
              : "Applies when a width or height is set"
          }
        >
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              type="number"
              inputMode="decimal"
              min={MIN_DPR}
              max={MAX_DPR}
              step={0.1}
              value={values.dpr}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(event) => set("dpr", event.currentTarget.value)}
            />
          )}
        </Field>
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

      <fieldset className={gravityInvalid ? "invalid" : undefined}>
        <legend>Gravity</legend>
        <p id={`${ids}-gravity-hint`} className="hint">
          {gravityApplies(values) ? "Which part cover keeps" : "Applies to fit cover with both width and height set"}
        </p>
        <GravityControl value={values.gravity} onChange={chooseGravity} describedBy={`${ids}-gravity-hint`} />
        {values.gravity === "focal" && (
          <div className="row">
            {(["focalX", "focalY"] as const).map((key) => (
              <div key={key} className={`field${gravityInvalid ? " invalid" : ""}`}>
                <label htmlFor={`${ids}-${key}`}>{key === "focalX" ? "Focal point X" : "Focal point Y"}</label>
                <input
                  id={`${ids}-${key}`}
                  type="number"
                  inputMode="decimal"
                  min={0}
                  max={1}
                  step={0.001}
                  value={values[key]}
                  aria-describedby={gravityInvalid ? `${ids}-gravity-error` : `${ids}-focal-hint`}
                  aria-invalid={gravityInvalid}
                  onChange={(event) => set(key, event.currentTarget.value)}
                />
              </div>
            ))}
          </div>
        )}
        {values.gravity === "focal" && (
          <span id={`${ids}-focal-hint`} className="hint">
            Fractions of the width and height (after the crop), 0 to 1; or click the image below.
          </span>
        )}
        {values.gravity === "center" && image.focus && gravityApplies(values) && (
          <span className="hint" data-image-focus>
            Center: this image's focus ({image.focus.x}, {image.focus.y}) is used instead, as in the URLs the API mints.
          </span>
        )}
        <GroupError id={`${ids}-gravity-error`} name="gravity" error={error} />
      </fieldset>

      <fieldset className={cropInvalid ? "invalid" : undefined}>
        <legend>Crop and focal point</legend>
        <details
          className="picker-details"
          open={pickerOpen}
          onToggle={(event) => setPickerOpen(event.currentTarget.open)}
        >
          <summary>Choose on the image</summary>
          {pickerOpen && (
            <RegionPicker image={image} values={values} onChange={onChange} tool={tool} onToolChange={setTool} />
          )}
        </details>
        <div className="row">
          {CROP_FIELDS.map(({ key, label, min, max }) => (
            <div key={key} className={`field${cropInvalid ? " invalid" : ""}`}>
              <label htmlFor={`${ids}-${key}`}>{label}</label>
              <input
                id={`${ids}-${key}`}
                type="number"
                inputMode="numeric"
                min={min}
                max={max}
                placeholder={key === "cropWidth" ? String(image.width) : key === "cropHeight" ? String(image.height) : "0"}
                value={values[key]}
                aria-describedby={cropInvalid ? `${ids}-crop-error` : `${ids}-crop-hint`}
                aria-invalid={cropInvalid}
                onChange={(event) => set(key, event.currentTarget.value)}
              />
            </div>
          ))}
        </div>
        <div className="with-buttons crop-actions">
          <span id={`${ids}-crop-hint`} className="hint">
            Pixels of the original ({image.width} × {image.height}), cut before anything else
          </span>
          <button
            type="button"
            className="button secondary small"
            disabled={cropParam(values) === ""}
            onClick={() => onChange(withCrop(values, null, image))}
          >
            Clear crop
          </button>
        </div>
        <GroupError id={`${ids}-crop-error`} name="crop" error={error} />
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
          label="Sharpen (sigma)"
          name="sharpen"
          error={error}
          hint={`0 for none, or ${MIN_SHARPEN} to ${MAX_SHARPEN}: an unsharp mask after resizing`}
        >
          {({ id, describedBy, invalid }) => (
            <input
              id={id}
              type="number"
              inputMode="decimal"
              min={0}
              max={MAX_SHARPEN}
              step={0.1}
              value={values.sharpen}
              aria-describedby={describedBy}
              aria-invalid={invalid}
              onChange={(event) => set("sharpen", event.currentTarget.value)}
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
        <Field label="Format" name="format" error={error} hint={FORMAT_HELP[values.format]}>
          {({ id, describedBy }) => (
            <select
              id={id}
              value={values.format}
              aria-describedby={describedBy}
              onChange={(event) => set("format", event.currentTarget.value as BuilderValues["format"])}
            >
              <option value="auto">auto (by the browser)</option>
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
        <div className="toggles">
          <Toggle
            label="Palette (at most 256 colours)"
            checked={values.palette}
            onChange={(v) => set("palette", v)}
            hint={paletteMayApply(values, sourceFormat) ? "Changes PNG output only" : "No effect: the output is not PNG"}
          />
          <Toggle
            label="Background colour"
            checked={values.backgroundOn}
            onChange={(v) => set("backgroundOn", v)}
            hint="Fills contain's bars, a rotation's corners, and transparency when the output has no alpha"
          />
        </div>
        {values.backgroundOn && (
          <div className="row">
            <Field label="Colour" name="background" error={error} hint={`background=${backgroundParam(values)}`}>
              {({ id, describedBy, invalid }) => (
                <input
                  id={id}
                  type="color"
                  className="colour"
                  value={values.backgroundColor}
                  aria-describedby={describedBy}
                  aria-invalid={invalid}
                  onChange={(event) => set("backgroundColor", event.currentTarget.value)}
                />
              )}
            </Field>
            <Field
              label="Opacity"
              name="background"
              hint={`${values.backgroundOpacity}%${values.backgroundOpacity === "100" ? " (opaque)" : ""}`}
            >
              {({ id, describedBy }) => (
                <input
                  id={id}
                  type="range"
                  min={0}
                  max={100}
                  value={values.backgroundOpacity}
                  aria-describedby={describedBy}
                  onChange={(event) => set("backgroundOpacity", event.currentTarget.value)}
                />
              )}
            </Field>
          </div>
        )}
      </fieldset>

      <button
        type="button"
        className="button ghost"
        onClick={() => {
          onChange(DEFAULT_VALUES);
          setPickerOpen(false);
        }}
      >
        Reset all
      </button>
    </form>
  );
}
