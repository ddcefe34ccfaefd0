/**
 * The one way the app talks to the API: same-origin JSON requests under /v1, with the
 * access token attached and one retry after a refresh when it was refused.
 */
import { ApiError } from "./errors";
import { SessionManager } from "./session";

export const session = new SessionManager({
  storage: window.localStorage,
  fetch: (input, init) => window.fetch(input, init),
  locks: typeof navigator !== "undefined" && "locks" in navigator ? navigator.locks : undefined,
});

window.addEventListener("storage", (event) => {
  if (event.key === null || event.key === "imgedge.session") session.syncFromStorage();
});

export interface RequestOptions {
  method?: "GET" | "POST" | "DELETE";
  /** Sent as JSON. */
  json?: unknown;
  /** Attach the access token (default true). */
  auth?: boolean;
  signal?: AbortSignal;
}

/** Performs a request and returns its JSON body (`undefined` for 204). Throws {@link ApiError}. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = "GET", json, auth = true, signal } = options;
  const send = async (token: string | null): Promise<Response> => {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetch(path, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw ApiError.network();
    }
  };

  let token = auth ? await session.accessToken() : null;
  let response = await send(token);
  if (response.status === 401 && token) {
    token = await session.renewAfterRejection(token);
    response = await send(token);
  }
  if (!response.ok) throw await ApiError.fromResponse(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Runs `attempt` with an access token, once more with a renewed one if it was refused (401). */
export async function withAccessToken<T>(attempt: (token: string) => Promise<T>): Promise<T> {
  const token = await session.accessToken();
  try {
    return await attempt(token);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    return attempt(await session.renewAfterRejection(token));
  }
}
