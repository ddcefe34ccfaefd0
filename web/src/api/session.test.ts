/**
 * Refresh tokens work once, and a replayed one revokes the session: these tests hold the
 * session manager to one refresh request however many callers need a token at once, and to
 * keeping no token where a script could read it.
 */
import { createApiClient, type Session } from "@imgedge/api-client";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "./errors";
import { dataOf } from "./result";
import { SessionManager, STORAGE_KEY } from "./session";

class MemoryStorage {
  readonly map = new Map<string, string>();
  getItem = (key: string) => this.map.get(key) ?? null;
  setItem = (key: string, value: string) => void this.map.set(key, value);
  removeItem = (key: string) => void this.map.delete(key);
}

/**
 * A fake /v1/auth/refresh and /v1/auth/logout in cookie mode: the browser's cookie jar is
 * `cookie`, which the server rotates and, like the API, refuses once spent. `api` is the
 * generated client on it, as the app makes it.
 */
function fakeServer(firstToken: string | null = "r0") {
  const server = {
    cookie: firstToken,
    valid: new Set(firstToken ? [firstToken] : []),
    issued: 0,
    requests: [] as { path: string; cookie: string | null; body: string }[],
    gate: Promise.resolve() as Promise<void>,
  };
  const fetch = vi.fn(async (request: Request) => {
    const path = new URL(request.url).pathname;
    const presented = server.cookie;
    server.requests.push({ path, cookie: presented, body: await request.text() });
    expect(request.headers.get("Content-Type")).toBe("application/json");
    expect(request.headers.get("Authorization")).toBeNull();
    await server.gate;
    if (path === "/v1/auth/logout") {
      server.valid = new Set();
      server.cookie = null;
      return new Response(null, { status: 204 });
    }
    if (!presented || !server.valid.has(presented)) {
      server.valid = new Set(); // reuse revokes the whole session
      server.cookie = null;
      return Response.json({ error: "refresh_token_reused", message: "revoked" }, { status: 401 });
    }
    server.valid.delete(presented);
    server.issued += 1;
    server.cookie = `r${server.issued}`;
    server.valid.add(server.cookie);
    const session: Session = { access_token: `a${server.issued}`, token_type: "Bearer", expires_in: 900 };
    return Response.json(session);
  });
  return {
    fetch,
    api: createApiClient({ baseUrl: BASE, fetch }),
    server,
    refreshes: () => server.requests.filter((r) => r.path === "/v1/auth/refresh").map((r) => r.cookie),
    hold() {
      let release!: () => void;
      server.gate = new Promise((resolve) => (release = resolve));
      return release;
    },
  };
}

const BASE = "https://imgedge.test";

/** The generated client on a fetch that cannot reach the server. */
const offline = () =>
  createApiClient({
    baseUrl: BASE,
    fetch: async () => {
      throw new TypeError("Failed to fetch");
    },
  });

const signedIn = (email: string | null = "ada@example.com") => JSON.stringify({ email });

describe("SessionManager", () => {
  it("starts signed out without a stored marker", () => {
    const session = new SessionManager({ storage: new MemoryStorage(), api: fakeServer().api });
    expect(session.getSnapshot()).toEqual({ status: "signed-out", email: null });
  });

  it("restores a session with one refresh of the cookie, and stores no token", async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, signedIn());
    const fake = fakeServer();
    const session = new SessionManager({ storage, api: fake.api });
    expect(session.getSnapshot().status).toBe("restoring");
    await Promise.all([session.restore(), session.restore()]);
    expect(session.getSnapshot()).toEqual({ status: "signed-in", email: "ada@example.com" });
    expect(fake.refreshes()).toEqual(["r0"]);
    expect(fake.server.requests[0]?.body).toBe("{}");
    const stored = JSON.stringify([...storage.map]);
    expect(stored).not.toMatch(/r\d|a\d/);
    expect(await session.accessToken()).toBe("a1");
  });

  it("shares one refresh between concurrent callers", async () => {
    const storage = new MemoryStorage();
    const fake = fakeServer();
    let now = 0;
    const session = new SessionManager({ storage, api: fake.api, now: () => now });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900 }, "ada@example.com");
    expect(await session.accessToken()).toBe("a0");

    now = 900_000; // expired
    const release = fake.hold();
    const tokens = Promise.all([session.accessToken(), session.accessToken(), session.refresh(), session.accessToken()]);
    release();
    expect(await tokens).toEqual(["a1", "a1", "a1", "a1"]);
    expect(fake.refreshes()).toEqual(["r0"]);
    expect(session.getSnapshot().status).toBe("signed-in");

    // The next refresh presents the rotated cookie, never the spent one.
    await session.refresh();
    expect(fake.refreshes()).toEqual(["r0", "r1"]);
  });

  it("does not spend another refresh token when a rejected access token was already renewed", async () => {
    const fake = fakeServer();
    const session = new SessionManager({ storage: new MemoryStorage(), api: fake.api });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900 });
    const [first, second] = await Promise.all([session.renewAfterRejection("a0"), session.renewAfterRejection("a0")]);
    expect([first, second]).toEqual(["a1", "a1"]);
    expect(await session.renewAfterRejection("a0")).toBe("a1");
    expect(fake.refreshes()).toEqual(["r0"]);
  });

  it("serialises refreshes through the lock manager", async () => {
    const fake = fakeServer();
    const names: string[] = [];
    const locks = {
      request: vi.fn(async (name: string, task: () => Promise<unknown>) => {
        names.push(name);
        return task();
      }),
    } as unknown as LockManager;
    const session = new SessionManager({ storage: new MemoryStorage(), api: fake.api, locks });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 0 });
    await session.accessToken();
    expect(names).toEqual(["imgedge.refresh"]);
  });

  it("signs out on the server, and here even when the server cannot be reached", async () => {
    const storage = new MemoryStorage();
    const fake = fakeServer();
    const session = new SessionManager({ storage, api: fake.api });
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900 }, "ada@example.com");
    await session.signOut();
    expect(fake.server.requests.map((r) => [r.path, r.cookie, r.body])).toEqual([["/v1/auth/logout", "r0", "{}"]]);
    expect(session.getSnapshot().status).toBe("signed-out");
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
    expect(fake.server.valid.size).toBe(0);

    const other = new SessionManager({ storage, api: offline() });
    other.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900 }, "ada@example.com");
    await other.signOut();
    expect(other.getSnapshot().status).toBe("signed-out");
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it("stays signed out when a refresh in flight lands after the sign-out", async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, signedIn());
    const fake = fakeServer();
    const session = new SessionManager({ storage, api: fake.api });
    const release = fake.hold();
    const refreshing = session.refresh().catch((e: unknown) => e);
    const signingOut = session.signOut();
    release();
    expect(await refreshing).toBeInstanceOf(ApiError);
    await signingOut;
    expect(session.getSnapshot().status).toBe("signed-out");
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it("signs out when the server refuses the refresh cookie", async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, signedIn(null));
    const fake = fakeServer(null); // no cookie, or a spent one: the server refuses
    const refused = new SessionManager({ storage, api: fake.api });
    const error = await refused.refresh().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: "refresh_token_reused" });
    expect(refused.getSnapshot().status).toBe("signed-out");
    expect(storage.getItem(STORAGE_KEY)).toBeNull();
  });

  it("keeps the marker when the server cannot be reached", async () => {
    const storage = new MemoryStorage();
    storage.setItem(STORAGE_KEY, signedIn());
    const session = new SessionManager({ storage, api: offline() });
    await session.restore();
    expect(session.getSnapshot().status).toBe("signed-out");
    expect(storage.getItem(STORAGE_KEY)).toBe(signedIn());
  });

  it("follows a sign-out in another tab, and notifies subscribers", () => {
    const storage = new MemoryStorage();
    const session = new SessionManager({ storage, api: fakeServer().api });
    const listener = vi.fn();
    session.subscribe(listener);
    session.accept({ access_token: "a0", token_type: "Bearer", expires_in: 900 }, "x@example.com");
    storage.removeItem(STORAGE_KEY);
    session.syncFromStorage();
    expect(session.getSnapshot().status).toBe("signed-out");
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it("is the generated client's token source: requests refused together share one refresh", async () => {
    const fake = fakeServer();
    const session = new SessionManager({ storage: new MemoryStorage(), api: fake.api });
    // A token the server no longer takes (say, revoked early): every request is refused once.
    session.accept({ access_token: "stale", token_type: "Bearer", expires_in: 900 }, "ada@example.com");
    const presented: (string | null)[] = [];
    // The API: /v1/auth/* is the fake above; /v1/me takes only the access token it issued last.
    const api = createApiClient({
      baseUrl: BASE,
      auth: session,
      fetch: async (request) => {
        if (new URL(request.url).pathname.startsWith("/v1/auth/")) return fake.fetch(request);
        const authorization = request.headers.get("Authorization");
        presented.push(authorization);
        return fake.server.issued > 0 && authorization === `Bearer a${fake.server.issued}`
          ? Response.json({ email: "ada@example.com" })
          : Response.json({ error: "unauthorized", message: "expired" }, { status: 401 });
      },
    });
    const answers = await Promise.all([dataOf(api.GET("/v1/me")), dataOf(api.GET("/v1/me")), dataOf(api.GET("/v1/me"))]);
    expect(answers.map((a) => a.email)).toEqual(["ada@example.com", "ada@example.com", "ada@example.com"]);
    expect(fake.refreshes()).toEqual(["r0"]);
    expect(presented.toSorted()).toEqual(["Bearer a1", "Bearer a1", "Bearer a1", "Bearer stale", "Bearer stale", "Bearer stale"]);
  });

  it("fails the generated client's requests with signed_out once the session is over", async () => {
    const fake = fakeServer();
    const session = new SessionManager({ storage: new MemoryStorage(), api: fake.api });
    const api = createApiClient({ baseUrl: BASE, auth: session, fetch: fake.fetch });
    await expect(dataOf(api.GET("/v1/me"))).rejects.toMatchObject({ status: 401, code: "signed_out" });
    expect(fake.server.requests).toEqual([]);
  });
});
