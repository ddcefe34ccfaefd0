// The runtime through the package's exports: typed calls reach the right URL with the
// right body, the bearer token goes to protected operations only, and a refused token is
// renewed and the request sent again once, body and all.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  PUBLIC_OPERATIONS,
  createApiClient,
  isPublicOperation,
  type ErrorBody,
  type ImageList,
  type ImageMetadata,
  type Session,
  type TokenSource,
} from "@imgedge/api-client";

const BASE = "https://images.example.test";

const image: ImageMetadata = {
  id: "7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01",
  filename: "photo.jpg",
  format: "jpeg",
  width: 1200,
  height: 800,
  frames: 1,
  bytes: 123456,
  blake3: "0".repeat(64),
  created_at: "2026-01-01T00:00:00Z",
  key_epoch: 0,
  url_key: "1".repeat(64),
  url: `/i/7b2c7c1e-0f6a-4b9e-9d3e-2f1a5c8b9e01/AAAAAAAAAAAAAAAAAAAAAA`,
  aspect_ratio: 1.5,
  tags: ["beach"],
  metadata: {},
  presets: {},
};

interface Seen {
  method: string;
  url: string;
  authorization: string | null;
  contentType: string | null;
  ifMatch: string | null;
  body: string;
}

/** A fake API: records each request and answers with `answer`. */
function fakeApi(answer: (request: Request, seen: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    const entry: Seen = {
      method: request.method,
      url: request.url,
      authorization: request.headers.get("Authorization"),
      contentType: request.headers.get("Content-Type"),
      ifMatch: request.headers.get("If-Match"),
      body: await request.text(),
    };
    seen.push(entry);
    return answer(request, entry);
  };
  return { fetch, seen };
}

/** A session whose tokens are a0, a1, …: `renewAfterRejection` moves to the next one. */
function tokens(first: string | null = "a0") {
  const state = { current: first, renewals: 0 };
  const source: Required<TokenSource> = {
    accessToken: async () => state.current,
    renewAfterRejection: async (rejected) => {
      if (state.current !== rejected) return state.current;
      state.renewals += 1;
      state.current = `a${state.renewals}`;
      return state.current;
    },
  };
  return { source, state };
}

describe("createApiClient", () => {
  it("sends typed requests and returns typed data", async () => {
    const list: ImageList = { items: [image], next_cursor: "c1" };
    const api = fakeApi(() => Response.json(list));
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch });
    const { data, error } = await client.GET("/v1/images", { params: { query: { limit: 5, cursor: "c0" } } });
    assert.equal(error, undefined);
    assert.deepEqual(data, list);
    assert.equal(api.seen[0]?.url, `${BASE}/v1/images?limit=5&cursor=c0`);
    assert.equal(api.seen[0]?.authorization, null, "no auth hook, no token");
  });

  it("returns the API's error body with the response", async () => {
    const body: ErrorBody = { error: "not_found", message: "No such image." };
    const api = fakeApi(() => Response.json(body, { status: 404 }));
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch });
    const { data, error, response } = await client.GET("/v1/images/{id}", { params: { path: { id: image.id } } });
    assert.equal(data, undefined);
    assert.deepEqual(error, body);
    assert.equal(response.status, 404);
    assert.equal(api.seen[0]?.url, `${BASE}/v1/images/${image.id}`);
  });

  it("sends JSON bodies", async () => {
    const session: Session = { access_token: "a0", token_type: "Bearer", expires_in: 900 };
    const api = fakeApi(() => Response.json(session));
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch });
    const { data } = await client.POST("/v1/auth/login", {
      body: { email: "ada@example.com", password: "correct horse", refresh_cookie: true },
    });
    assert.deepEqual(data, session);
    assert.equal(api.seen[0]?.method, "POST");
    assert.equal(api.seen[0]?.contentType, "application/json");
    assert.deepEqual(JSON.parse(api.seen[0]?.body ?? ""), {
      email: "ada@example.com",
      password: "correct horse",
      refresh_cookie: true,
    });
  });

  it("sends a merge patch with its media type and If-Match", async () => {
    const edited: ImageMetadata = { ...image, alt: "A beach", tags: ["beach", "sea"] };
    const api = fakeApi(() => Response.json(edited, { headers: { ETag: '"v2"' } }));
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch });
    const { data, response } = await client.PATCH("/v1/images/{id}", {
      params: { path: { id: image.id }, header: { "If-Match": '"v1"' } },
      body: { alt: "A beach", tags: ["beach", "sea"], title: null },
      headers: { "Content-Type": "application/merge-patch+json" },
    });
    assert.deepEqual(data, edited);
    assert.equal(response.headers.get("ETag"), '"v2"');
    assert.equal(api.seen[0]?.method, "PATCH");
    assert.equal(api.seen[0]?.contentType, "application/merge-patch+json");
    assert.equal(api.seen[0]?.ifMatch, '"v1"');
    assert.deepEqual(JSON.parse(api.seen[0]?.body ?? ""), { alt: "A beach", tags: ["beach", "sea"], title: null });
  });
});

describe("bearer auth", () => {
  it("attaches the token to protected operations only", async () => {
    const api = fakeApi(() => Response.json({}));
    const { source } = tokens();
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch, auth: source });
    await client.GET("/v1/me");
    await client.POST("/v1/auth/refresh", { body: {} });
    await client.DELETE("/v1/images/{id}", { params: { path: { id: image.id } } });
    assert.deepEqual(
      api.seen.map((s) => s.authorization),
      ["Bearer a0", null, "Bearer a0"],
    );
  });

  it("sends no token when the source has none, and keeps a caller's own", async () => {
    const api = fakeApi(() => Response.json({}));
    const signedOut = createApiClient({ baseUrl: BASE, fetch: api.fetch, auth: { accessToken: () => null } });
    await signedOut.GET("/v1/me");
    const own = createApiClient({ baseUrl: BASE, fetch: api.fetch, auth: tokens().source });
    await own.GET("/v1/me", { headers: { Authorization: "Bearer mine" } });
    assert.deepEqual(
      api.seen.map((s) => s.authorization),
      [null, "Bearer mine"],
    );
  });

  it("renews a refused token and sends the request again once, with its body", async () => {
    const api = fakeApi((_, seen) =>
      seen.authorization === "Bearer a1"
        ? Response.json({ url: "/i/x/y?width=10" })
        : Response.json({ error: "unauthorized", message: "expired" }, { status: 401 }),
    );
    const { source, state } = tokens();
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch, auth: source });
    const { data, response } = await client.POST("/v1/images/{id}/rotate-key", { params: { path: { id: image.id } } });
    assert.equal(response.status, 200);
    assert.ok(data);
    assert.equal(state.renewals, 1);
    assert.deepEqual(
      api.seen.map((s) => [s.method, s.authorization]),
      [
        ["POST", "Bearer a0"],
        ["POST", "Bearer a1"],
      ],
    );
  });

  it("replays a JSON body on the retry", async () => {
    const api = fakeApi((_, seen) =>
      seen.authorization === "Bearer a1" ? Response.json({}) : new Response(null, { status: 401 }),
    );
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch, auth: tokens().source });
    await client.PUT("/v1/presets/{name}", {
      params: { path: { name: "card" } },
      body: { query: "width=640&format=auto", eager: true },
    });
    assert.deepEqual(
      api.seen.map((s) => [s.authorization, s.body]),
      [
        ["Bearer a0", '{"query":"width=640&format=auto","eager":true}'],
        ["Bearer a1", '{"query":"width=640&format=auto","eager":true}'],
      ],
    );
  });

  it("gives the caller the 401 when the token cannot be renewed", async () => {
    const api = fakeApi(() => Response.json({ error: "unauthorized", message: "no" }, { status: 401 }));
    const client = createApiClient({
      baseUrl: BASE,
      fetch: api.fetch,
      auth: { accessToken: () => "a0", renewAfterRejection: () => null },
    });
    const { error, response } = await client.GET("/v1/me");
    assert.equal(response.status, 401);
    assert.deepEqual(error, { error: "unauthorized", message: "no" });
    assert.equal(api.seen.length, 1);
  });

  it("does not retry a refused sign-in", async () => {
    const api = fakeApi(() => Response.json({ error: "invalid_credentials", message: "no" }, { status: 401 }));
    const { source, state } = tokens();
    const client = createApiClient({ baseUrl: BASE, fetch: api.fetch, auth: source });
    const { response } = await client.POST("/v1/auth/login", { body: { email: "a@example.com", password: "x" } });
    assert.equal(response.status, 401);
    assert.equal(state.renewals, 0);
    assert.equal(api.seen.length, 1);
  });
});

describe("PUBLIC_OPERATIONS", () => {
  it("holds the operations that take no token, read from the document", () => {
    for (const path of ["/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"]) {
      assert.ok(PUBLIC_OPERATIONS.has(`POST ${path}`), path);
      assert.ok(isPublicOperation("post", path), path);
    }
    for (const [method, path] of [
      ["GET", "/v1/me"],
      ["GET", "/v1/images"],
      ["POST", "/v1/images"],
      ["DELETE", "/v1/images/{id}"],
    ] as const) {
      assert.ok(!isPublicOperation(method, path), `${method} ${path}`);
    }
  });
});
