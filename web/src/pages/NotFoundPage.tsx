import { Link } from "react-router";

export function NotFoundPage({ what = "page" }: { what?: string }) {
  return (
    <div className="notice">
      <h1>No such {what}</h1>
      <p className="muted">It may have been deleted, or the address is mistyped.</p>
      <Link to="/" className="button secondary">
        Back to your images
      </Link>
    </div>
  );
}
