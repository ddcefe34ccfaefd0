import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  error: Error | null;
}

/** Shows a way out instead of a blank page when rendering fails. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // Reported, for whoever has the console open; the page offers a reload.
    // eslint-disable-next-line no-console
    console.error(error, info.componentStack);
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="notice" role="alert">
        <h1>Something went wrong</h1>
        <p className="muted">{this.state.error.message}</p>
        <button type="button" className="button secondary" onClick={() => window.location.reload()}>
          Reload the page
        </button>
      </div>
    );
  }
}
