import { Link, Outlet } from "react-router";
import { signOut } from "../api/auth";
import { useSession } from "../hooks/useSession";
import { ErrorBoundary } from "./ErrorBoundary";

export function Layout() {
  const { status, email } = useSession();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="imgedge, your images">
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
            <rect x="2.5" y="4.5" width="19" height="15" rx="3" fill="none" stroke="currentColor" strokeWidth="2" />
            <path d="M5 17l4.5-5 3.5 3.5 2.5-2.5L19 17" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
            <circle cx="16" cy="9" r="1.6" fill="currentColor" />
          </svg>
          imgedge
        </Link>
        {status === "signed-in" && (
          <nav className="account" aria-label="Account">
            <Link to="/presets" className="button ghost">
              Presets
            </Link>
            {email && <span className="muted email">{email}</span>}
            <button type="button" className="button ghost" onClick={() => void signOut()}>
              Sign out
            </button>
          </nav>
        )}
      </header>
      <main id="main" className="content">
        <ErrorBoundary>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}
