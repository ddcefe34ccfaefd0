import type { PresetView } from "@imgedge/api-client";
import { errorMessage } from "../api/errors";
import { useDeletePreset } from "../hooks/presets";
import { formatDate } from "../lib/format";

/** The account's presets, each with a delete button. */
export function PresetTable({ presets }: { presets: readonly PresetView[] }) {
  const remove = useDeletePreset();
  if (presets.length === 0) return <p className="muted">No presets yet.</p>;
  return (
    <>
      <table className="presets">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Query</th>
            <th scope="col">Eager</th>
            <th scope="col">Updated</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {presets.map((preset) => (
            <tr key={preset.name} data-preset={preset.name}>
              <th scope="row">{preset.name}</th>
              <td className="mono">{preset.query || "(the original)"}</td>
              <td>{preset.eager ? "yes" : "no"}</td>
              <td>{formatDate(preset.updated_at)}</td>
              <td>
                <button
                  type="button"
                  className="button danger-outline small"
                  aria-label={`Delete preset ${preset.name}`}
                  disabled={remove.isPending && remove.variables === preset.name}
                  onClick={() => remove.mutate(preset.name)}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {remove.isError && (
        <p className="error" role="alert">
          {errorMessage(remove.error)}
        </p>
      )}
    </>
  );
}
