/**
 * Refresh tokens work once, and a replayed one revokes the session: these tests hold the
 * session manager to one refresh request however many callers need a token at once.
 */
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "./errors";
import { SessionManager, STORAGE_KEY } from "./session";
import type { Session } from "./types";

class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem = (key: string) => this.map.get(key) ?? null;
  setItem = (key: string, value: string) => void this.map.set(key, value);
  removeItem = (key: string) => void this.map.delete(key);
}

/** A fake /v1/auth/refresh that rotates tokens and, like the API, refuses a spent one. */
function fakeServer(firstToken = "r0") {
  let valid = new Set([firstToken]);
  let issued = 0;
  const requests: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const fetch = vi.fn(async (_input: RequestInfo | URL, init?: RequestInit) => {
    const { refresh_token } = JSON.parse(String(init?.body)) as { refresh_token: string };
    requests.push(refresh_token);
    await gate;
    if (!valid.has(refresh_token)) {
      valid = new Set(); // reuse revokes the whole session
      return Response.json({ error: "refresh_token_reused", message: "revoked" }, { status: 401 });
    }
    valid.delete(refresh_token);
    issued += 1;
    const next = `r${issued}`;
    valid.add(next);
    const session: Session = { access_token: `a${issued}`, token_type: "Bearer", expires_in: 900, refresh_token: next };
    return Response.json(session);
  });
  return {
    fetch: fetch as unknown as typeof globalThis.fetch,
    requests,
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
  };
}

function stored(storage: MemoryStorage) {
  return JSON.parse(storage.getItem(STORAGE_KEY) ?? "null") as { refresh_token: string; email: string | null } | null;
}

describe("SessionManager", () => {
  it("starts signed out without a stored token", () => {
    const session = new SessionManager({ storage: new MemoryStorage(), fetch: fakeServer().fetch });
    expect(session.getSnapshot()).toEqual({ status: "signed-out", email: null });
  });

  it("restores a stored session with one refresh, and keeps only the refresh token", async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, JSON.stringify({ refresh_token: "r0", email: "ada@example.com" }));
    const server = fakeServer();
    const session = new SessionManager({ storage, fetch: server.fetch });
    expect(session.getSnapshot().status).toBe("restoring");
    await Promise.all([session.restore(), session.restore()]);
    expect(session.getSnapshot()).toEqual({ status: "signed-in", email: "ada@example.com" });
    expect(server.requests).toEqual(["r0"]);
    expect(stored(storage)).toEqual({ refresh_token: "r1", email: "ada@example.com" });
    expect(JSON.stringify([...storage.map])).not.toContain("a1");
    expect(await session.accessToken()).toBe("a1");
  });

  it("shares one refresh between concurrent callers", async () => {
    const storage = new MemoryStorage();
    const server = fakeServer();
    let now = 0;
    const session = new SessionManager({ storage, fetch: server.fetch, now: () => now });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900, refresh_token: "r0" }, "ada@example.com");
    expect(await session.accessToken()).toBe("a0");

    now = 900_000; // expired
    const release = server.hold();
    const tokens = Promise.all([session.accessToken(), session.accessToken(), session.refresh(), session.accessToken()]);
    release();
    expect(await tokens).toEqual(["a1", "a1", "a1", "a1"]);
    expect(server.requests).toEqual(["r0"]);
    expect(session.getSnapshot().status).toBe("signed-in");

    // The next refresh presents the rotated token, never the spent one.
    await session.refresh();
    expect(server.requests).toEqual(["r0", "r1"]);
  });

  it("does not spend another refresh token when a rejected access token was already renewed", async () => {
    const server = fakeServer();
    const session = new SessionManager({ storage: new MemoryStorage(), fetch: server.fetch });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900, refresh_token: "r0" });
    const [first, second] = await Promise.all([session.renewAfterRejection("a0"), session.renewAfterRejection("a0")]);
    expect([first, second]).toEqual(["a1", "a1"]);
    expect(await session.renewAfterRejection("a0")).toBe("a1");
    expect(server.requests).toEqual(["r0"]);
  });

  it("serialises refreshes through the lock manager", async () => {
    const server = fakeServer();
    const names: string[] = [];
    const locks = {
      request: vi.fn(async (name: string, task: () => Promise<unknown>) => {
        names.push(name);
        return task();
      }),
    } as unknown as LockManager;
    const session = new SessionManager({ storage: new MemoryStorage(), fetch: server.fetch, locks });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 0, refresh_token: "r0" });
    await session.accessToken();
    expect(names).toEqual(["imgedge.refresh"]);
  });

  it("reads the newest stored token, as rotated by another tab", async () => {
    const storage = new MemoryStorage();
    const server = fakeServer();
    const session = new SessionManager({ storage, fetch: server.fetch });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900, refresh_token: "r0" });
    // Another tab refreshed with r0 and stored r1.
    const otherTab = new SessionManager({ storage, fetch: server.fetch });
    await otherTab.refresh();
    await session.refresh();
    expect(server.requests).toEqual(["r0", "r1"]);
    expect(session.getSnapshot().status).toBe("signed-in");
  });

  it("signs out when the server refuses the refresh token", async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, JSON.stringify({ refresh_token: "spent", email: null }));
    const session = new SessionManager({ storage, fetch: fakeServer().fetch });
    const error = await session.refresh().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: "refresh_token_reused" });
    expect(session.getSnapshot().status).toBe("signed-out");
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it("keeps the stored token when the server cannot be reached", async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, JSON.stringify({ refresh_token: "r0", email: null }));
    const fetch = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof globalThis.fetch;
    const session = new SessionManager({ storage, fetch });
    await session.restore();
    expect(session.getSnapshot().status).toBe("signed-out");
    expect(stored(storage)?.refresh_token).toBe("r0");
  });

  it("follows a sign-out in another tab, and notifies subscribers", () => {
    const storage = new MemoryStorage();
    const session = new SessionManager({ storage, fetch: fakeServer().fetch });
    const listener = vi.fn();
    session.subscribe(listener);
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900, refresh_token: "r0" }, "x@example.com");
    storage.removeItem(STORAGE_KEY);
    session.syncFromStorage();
    expect(session.getSnapshot().status).toBe("signed-out");
    expect(listener).toHaveBeenCalledTimes(2);
  });
});
