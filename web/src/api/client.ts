/**
 * The app's API client: the generated one (`@imgedge/api-client`, typed by the API's
 * OpenAPI document), same-origin, with the session's access token on every operation that
 * takes one and one retry with a renewed token when it was refused.
 */
import { createApiClient } from "@imgedge/api-client";
import { ApiError } from "./errors";
import { SessionManager } from "./session";

const options = { baseUrl: window.location.origin, headers: { Accept: "application/json" } };

export const session = new SessionManager({
  // Without `auth`: the session refreshes through it, and is the token source of `api`.
  api: createApiClient(options),
  storage: window.localStorage,
  locks: typeof navigator !== "undefined" && "locks" in navigator ? navigator.locks : undefined,
});

export const api = createApiClient({ ...options, auth: session });

window.addEventListener("storage", (event) => {
  if (event.key === null || event.key === "imgedge.session") session.syncFromStorage();
});

/**
 * Runs `attempt` with an access token, once more with a renewed one if it was refused (401):
 * for requests the generated client cannot make (an upload with progress).
 */
export async function withAccessToken<T>(attempt: (token: string) => Promise<T>): Promise<T> {
  const token = await session.accessToken();
  try {
    return await attempt(token);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    return attempt(await session.renewAfterRejection(token));
  }
}
