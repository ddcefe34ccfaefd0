import { useId, useState } from "react";
import { errorMessage } from "../api/errors";
import { useSavePreset } from "../hooks/presets";
import { presetNameProblem, presetQuery } from "../lib/presets";

/**
 * Creates a preset, or replaces the one of that name: a name, a transform query (given, as
 * the builder's settings, or typed) and whether to render it ahead for each new upload.
 */
export function PresetForm({ query: givenQuery, onSaved }: { query?: string; onSaved?: (name: string) => void }) {
  const id = useId();
  const save = useSavePreset();
  const [name, setName] = useState("");
  const [typed, setTyped] = useState("width=640&format=auto");
  const [eager, setEager] = useState(false);
  const query = givenQuery ?? typed;
  const nameProblem = name === "" ? null : presetNameProblem(name);
  const checked = presetQuery(query);
  const ready = name !== "" && nameProblem === null && checked.ok && !save.isPending;
  return (
    <form
      className="preset-form"
      aria-label="Save a preset"
      onSubmit={(event) => {
        event.preventDefault();
        if (!ready) return;
        save.mutate(
          { name, body: { query: checked.canonical, eager } },
          { onSuccess: (preset) => onSaved?.(preset.name) },
        );
      }}
    >
      <div className="row">
        <div className={`field${nameProblem ? " invalid" : ""}`}>
          <label htmlFor={`${id}-name`}>Preset name</label>
          <input
            id={`${id}-name`}
            type="text"
            autoComplete="off"
            placeholder="card"
            value={name}
            aria-invalid={nameProblem !== null}
            aria-describedby={`${id}-name-hint`}
            onChange={(event) => {
              setName(event.currentTarget.value);
              save.reset();
            }}
          />
          <span id={`${id}-name-hint`} className={nameProblem ? "error small" : "hint"}>
            {nameProblem ?? "A name already used replaces that preset"}
          </span>
        </div>
        {givenQuery === undefined && (
          <div className={`field${checked.ok ? "" : " invalid"}`}>
            <label htmlFor={`${id}-query`}>Transform query</label>
            <input
              id={`${id}-query`}
              type="text"
              className="mono"
              autoComplete="off"
              value={typed}
              aria-invalid={!checked.ok}
              aria-describedby={`${id}-query-hint`}
              onChange={(event) => {
                setTyped(event.currentTarget.value);
                save.reset();
              }}
            />
            <span id={`${id}-query-hint`} className={checked.ok ? "hint" : "error small"}>
              {checked.ok ? `Stored as ${checked.canonical || "(empty: the original)"}` : checked.message}
            </span>
          </div>
        )}
      </div>
      <label className="toggle">
        <input type="checkbox" checked={eager} onChange={(event) => setEager(event.currentTarget.checked)} />
        Eager: render it ahead for every new upload
      </label>
      <div className="with-buttons">
        <button type="submit" className="button primary" disabled={!ready}>
          {save.isPending ? "Saving…" : "Save preset"}
        </button>
        <span aria-live="polite" className="muted small">
          {save.isSuccess ? `Saved “${save.data.name}”.` : ""}
        </span>
      </div>
      {save.isError && (
        <p className="error" role="alert">
          {errorMessage(save.error)}
        </p>
      )}
    </form>
  );
}
