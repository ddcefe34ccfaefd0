/**
 * @imgedge/api-client: a typed client for the imgedge API. The types are generated from
 * the API's OpenAPI document (openapi.json, by `npm run generate`); the runtime is
 * openapi-fetch with a bearer-token middleware.
 */
export { createApiClient, type ApiClient, type ApiClientOptions } from "./client.js";
export { bearerAuth, isPublicOperation, type TokenSource } from "./bearer.js";
export { PUBLIC_OPERATIONS } from "./public-operations.js";
// Every schema under its own name (ImageMetadata, ImageList, ErrorBody, Session, …), and
// `paths`, `components`, `operations` for anything else.
export type * from "./schema.js";
export type { Middleware } from "openapi-fetch";
