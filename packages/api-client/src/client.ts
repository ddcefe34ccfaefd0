/** The typed client: openapi-fetch over the generated `paths`. */
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import { bearerAuth, type TokenSource } from "./bearer.js";
import type { paths } from "./schema.js";

/** A client of the whole API: `GET`, `POST`, `DELETE`… typed by path, parameters and body. */
export type ApiClient = Client<paths, "application/json">;

export interface ApiClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /**
   * Where `/v1/*` is: the CDN's base URL (e.g. `https://images.example.com`), with no
   * `/v1`. In a browser page served from that origin, `location.origin`.
   */
  baseUrl: string;
  /** The access token for operations that need one, renewed after a 401 (see {@link bearerAuth}). */
  auth?: TokenSource;
  /** More openapi-fetch middleware, run before the token's. */
  middleware?: readonly Middleware[];
}

/**
 * Creates a client. Its methods resolve to `{ data }` on a 2xx and `{ error, response }`
 * otherwise (`error` being the API's `ErrorBody`), and reject only when no response came.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const { auth, middleware = [], ...clientOptions } = options;
  const client = createClient<paths, "application/json">(clientOptions);
  client.use(...middleware);
  // Last: its onResponse runs first, so the others see the retried answer.
  if (auth) client.use(bearerAuth(auth));
  return client;
}
