import { errorMessage } from "../api/errors";
import { PresetForm } from "../components/PresetForm";
import { PresetTable } from "../components/PresetTable";
import { Spinner } from "../components/Spinner";
import { usePresets } from "../hooks/presets";

/** Presets: named transform queries whose signed URLs every image's metadata carries. */
export function PresetsPage() {
  const presets = usePresets();
  return (
    <div className="presets-page">
      <div className="page-head">
        <h1>Presets</h1>
      </div>
      <p className="muted">
        A preset is a transform query with a name: every image gets its signed URL (with the image's focus), and an
        eager one is rendered ahead for each new upload.
      </p>
      <section className="panel" aria-labelledby="preset-new">
        <h2 id="preset-new">Create or replace</h2>
        <PresetForm />
      </section>
      <section className="panel" aria-labelledby="preset-list">
        <h2 id="preset-list">Your presets</h2>
        {presets.isPending ? (
          <Spinner label="Loading your presets…" />
        ) : presets.isError ? (
          <p className="error" role="alert">
            Your presets could not be loaded: {errorMessage(presets.error)}
          </p>
        ) : (
          <PresetTable presets={presets.data.items} />
        )}
      </section>
    </div>
  );
}
