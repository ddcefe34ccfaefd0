/**
 * The bearer token as an openapi-fetch middleware: the caller's access token on every
 * operation that takes one, and one retry with a renewed token when the API refuses it.
 */
import type { Middleware } from "openapi-fetch";
import { PUBLIC_OPERATIONS } from "./public-operations.js";

/**
 * Where a client gets its access tokens: the caller's session. When either method throws
 * (the session has ended), the call rejects with that error.
 */
export interface TokenSource {
  /**
   * The access token for the next request, refreshed first when it is missing or about to
   * expire; `null` sends the request without one.
   */
  accessToken(): Promise<string | null> | string | null;
  /**
   * Called when the API refused `rejected` (401): the token to send the request again with,
   * once, or `null` to give the caller the 401. Requests refused together each call this,
   * so a source whose refresh tokens work once must share one refresh between them (and
   * return the token another caller already got when `rejected` is no longer current).
   */
  renewAfterRejection?(rejected: string): Promise<string | null> | string | null;
}

/** Whether an operation takes no bearer token (sign-up, sign-in, refresh, sign-out). */
export function isPublicOperation(method: string, schemaPath: string): boolean {
  return PUBLIC_OPERATIONS.has(`${method.toUpperCase()} ${schemaPath}`);
}

/**
 * The middleware. It skips public operations (asking for a token there could start a
 * refresh, which is itself one) and requests that carry their own `Authorization`. Put it
 * after any middleware that replaces the request: the retry resends the request it saw.
 */
export function bearerAuth(source: TokenSource): Middleware {
  // What a retry needs: the token that was refused, and the request as it was before it
  // was sent, since sending reads its body. Weak, so a request that never gets a response
  // leaves nothing behind.
  const sent = new WeakMap<Request, { token: string; unsent: Request }>();
  return {
    async onRequest({ request, schemaPath }) {
      if (isPublicOperation(request.method, schemaPath) || request.headers.has("Authorization")) return undefined;
      const token = await source.accessToken();
      if (!token) return undefined;
      request.headers.set("Authorization", `Bearer ${token}`);
      sent.set(request, { token, unsent: request.clone() });
      return request;
    },
    async onResponse({ request, response, options }) {
      const entry = sent.get(request);
      sent.delete(request);
      if (!entry || response.status !== 401 || !source.renewAfterRejection) return undefined;
      const token = await source.renewAfterRejection(entry.token);
      if (!token || token === entry.token) return undefined;
      // The refused answer is not read: release its connection.
      await response.body?.cancel().catch(() => undefined);
      entry.unsent.headers.set("Authorization", `Bearer ${token}`);
      // Called as a plain function: a browser's fetch refuses to run as another object's method.
      const send = options.fetch;
      return send(entry.unsent);
    },
  };
}
