/**
 * The signed-in session: the access token in memory only; the single-use refresh token in
 * an HttpOnly cookie that the API sets (`refresh_cookie` at sign-in) and no script can read,
 * so a session survives a reload without a token in storage. Storage keeps only a marker
 * (who is signed in), so that a reload knows to restore and other tabs follow a sign-out.
 *
 * Refresh tokens rotate and each works once; presenting a spent one revokes the whole
 * session. So every refresh goes through one promise (concurrent callers share it), and
 * across tabs (which share the cookie) through a Web Lock.
 */
import type { ApiClient, Session, TokenSource } from "@imgedge/api-client";
import { ApiError } from "./errors";
import { dataOf } from "./result";

export type SessionStatus = "restoring" | "signed-in" | "signed-out";

export interface SessionSnapshot {
  readonly status: SessionStatus;
  /** The email the user signed in with, when known. */
  readonly email: string | null;
}

/** What is kept in storage: that a session cookie may exist, and whose. Never a token. */
interface Stored {
  email: string | null;
}

export interface SessionDeps {
  /** Where the signed-in marker is kept (localStorage in the browser). */
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  /**
   * The API, without `auth`: refresh and sign-out take no access token, and this manager is
   * the token source of the app's other client.
   */
  api: ApiClient;
  now?: () => number;
  /** Serialises refreshes across tabs (navigator.locks); optional. */
  locks?: Pick<LockManager, "request">;
}

export const STORAGE_KEY = "imgedge.session";
const LOCK_NAME = "imgedge.refresh";
/** An access token this close to its expiry is refreshed before use. */
const EXPIRY_MARGIN_MS = 30_000;

export class SessionManager implements TokenSource {
  private access: { token: string; expiresAt: number } | null = null;
  private refreshing: Promise<string> | null = null;
  /** Counts sign-outs here, so that a refresh begun before one is not taken after it. */
  private epoch = 0;
  private snapshot: SessionSnapshot;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;

  constructor(private readonly deps: SessionDeps) {
    this.now = deps.now ?? Date.now;
    const stored = this.readStored();
    this.snapshot = { status: stored ? "restoring" : "signed-out", email: stored?.email ?? null };
  }

  // --- for React (useSyncExternalStore) --------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionSnapshot => this.snapshot;

  // --- lifecycle ------------------------------------------------------------------------

  /** Restores a stored session (once, at start-up): one refresh. */
  async restore(): Promise<void> {
    if (this.snapshot.status !== "restoring") return;
    try {
      await this.refresh();
    } catch (error) {
      // A transient failure (offline, server down) leaves nothing usable either: without an
      // access token the app cannot work. The signed-in marker (and the cookie) stay for the
      // next attempt.
      if (this.snapshot.status === "restoring") this.setSnapshot({ status: "signed-out", email: null });
      if (!(error instanceof ApiError)) throw error;
    }
  }

  /** Takes a session from login or refresh (its refresh token is in the cookie). */
  accept(session: Session, email: string | null = this.snapshot.email): void {
    this.access = { token: session.access_token, expiresAt: this.now() + session.expires_in * 1000 };
    this.writeStored({ email });
    this.setSnapshot({ status: "signed-in", email });
  }

  /**
   * Ends the session on the server (its whole token family is revoked and the cookie
   * cleared), then here. Signed out here even when the server cannot be reached.
   */
  async signOut(): Promise<void> {
    this.forget();
    try {
      // keepalive: the sign-out reaches the server even when the page is reloaded or
      // closed right after the click, which would otherwise abort it.
      await this.withLock(() => this.deps.api.POST("/v1/auth/logout", { ...COOKIE_MODE, keepalive: true }));
    } catch {
      // Offline: the cookie stays until it expires, but nothing here uses it any more.
    }
  }

  /** Forgets the session here only. */
  private forget(): void {
    // A refresh in flight now must not sign this tab back in when it lands.
    this.epoch += 1;
    this.access = null;
    this.deps.storage.removeItem(STORAGE_KEY);
    this.setSnapshot({ status: "signed-out", email: null });
  }

  /**
   * Another tab changed the stored session (a `storage` event): follow a sign-out there.
   * A rotation there needs nothing here: our next refresh reads the newest token.
   */
  syncFromStorage(): void {
    if (!this.readStored() && this.snapshot.status !== "signed-out") {
      this.access = null;
      this.setSnapshot({ status: "signed-out", email: null });
    }
  }

  // --- tokens ---------------------------------------------------------------------------

  /** A usable access token, refreshed first when it is missing or about to expire. */
  async accessToken(): Promise<string> {
    if (this.access && this.access.expiresAt - EXPIRY_MARGIN_MS > this.now()) return this.access.token;
    return this.refresh();
  }

  /**
   * After a 401 for `rejected`: a new access token. When another caller refreshed meanwhile,
   * its token is returned without spending another refresh token.
   */
  async renewAfterRejection(rejected: string): Promise<string> {
    if (this.access && this.access.token !== rejected) return this.access.token;
    return this.refresh();
  }

  /** Exchanges the refresh token for a new session. Concurrent calls share one request. */
  refresh(): Promise<string> {
    this.refreshing ??= this.withLock(() => this.exchange()).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async exchange(): Promise<string> {
    const epoch = this.epoch;
    const stored = this.readStored();
    if (!stored) {
      this.forget();
      throw new ApiError(401, "signed_out", "Your session has ended. Please sign in again.");
    }
    let session: Session;
    try {
      session = await dataOf(this.deps.api.POST("/v1/auth/refresh", COOKIE_MODE));
    } catch (error) {
      // Refused for good: the session is over. Anything else may pass.
      if (error instanceof ApiError && (error.status === 401 || error.status === 400)) this.forget();
      throw error;
    }
    if (epoch !== this.epoch) {
      // Signed out while this refresh was in flight: the session it brings is not taken.
      throw new ApiError(401, "signed_out", "Your session has ended. Please sign in again.");
    }
    this.accept(session, stored.email);
    return session.access_token;
  }

  private withLock<T>(task: () => Promise<T>): Promise<T> {
    const locks = this.deps.locks;
    return locks ? (locks.request(LOCK_NAME, task) as Promise<T>) : task();
  }

  // --- storage --------------------------------------------------------------------------

  private readStored(): Stored | null {
    try {
      const raw = this.deps.storage.getItem(STORAGE_KEY);
      const value = raw ? (JSON.parse(raw) as Partial<Stored> | null) : null;
      return typeof value === "object" && value !== null ? { email: value.email ?? null } : null;
    } catch {
      return null;
    }
  }

  private writeStored(value: Stored): void {
    this.deps.storage.setItem(STORAGE_KEY, JSON.stringify(value));
  }

  private setSnapshot(next: SessionSnapshot): void {
    if (next.status === this.snapshot.status && next.email === this.snapshot.email) return;
    this.snapshot = next;
    for (const listener of this.listeners) listener();
  }
}

/**
 * A request that presents the refresh cookie: an empty JSON object, since the API takes the
 * cookie only with a JSON body (what a cross-site form cannot send).
 */
const COOKIE_MODE = { body: {}, credentials: "same-origin" } as const;
