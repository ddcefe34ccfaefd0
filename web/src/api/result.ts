/** The one way a call of the generated client becomes data or an {@link ApiError}. */
import { ApiError } from "./errors";

/** What openapi-fetch resolves to: `data` on a 2xx, `error` (the parsed body) otherwise. */
interface CallResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The call's data and its response (for headers such as `ETag`). Throws {@link ApiError}:
 * the API's refusal, or `network_error` when no response came; when `signal` aborted the
 * call, its `AbortError` as it is.
 */
export async function responseOf<T>(
  call: Promise<CallResult<T>>,
  signal?: AbortSignal,
): Promise<{ data: T; response: Response }> {
  let result: CallResult<T>;
  try {
    result = await call;
  } catch (error) {
    // An ApiError comes from the token's middleware (the session has ended): keep it.
    if (signal?.aborted || error instanceof ApiError) throw error;
    throw ApiError.network();
  }
  if (!result.response.ok) throw ApiError.fromResult(result.response, result.error);
  return { data: result.data as T, response: result.response };
}

/** The call's data (see {@link responseOf}). */
export async function dataOf<T>(call: Promise<CallResult<T>>, signal?: AbortSignal): Promise<T> {
  return (await responseOf(call, signal)).data;
}
