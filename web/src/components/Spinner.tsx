/** A busy indicator with a text for assistive technology. */
export function Spinner({ label, block = false }: { label: string; block?: boolean }) {
  return (
    <div className={block ? "spinner-block" : "spinner-inline"} role="status">
      <span className="spinner" aria-hidden="true" />
      <span className={block ? "muted" : "visually-hidden"}>{label}</span>
    </div>
  );
}
