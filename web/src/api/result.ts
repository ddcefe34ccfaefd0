/** The one way a call of the generated client becomes data or an {@link ApiError}. */
import { ApiError } from "./errors";

/** What openapi-fetch resolves to: `data` on a 2xx, `error` (the parsed body) otherwise. */
interface CallResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The call's data. Throws {@link ApiError}: the API's refusal, or `network_error` when no
 * response came; when `signal` aborted the call, its `AbortError` as it is.
 */
export async function dataOf<T>(call: Promise<CallResult<T>>, signal?: AbortSignal): Promise<T> {
  let result: CallResult<T>;
  try {
    result = await call;
  } catch (error) {
    // An ApiError comes from the token's middleware (the session has ended): keep it.
    if (signal?.aborted || error instanceof ApiError) throw error;
    throw ApiError.network();
  }
  if (!result.response.ok) throw ApiError.fromResult(result.response, result.error);
  return result.data as T;
}
