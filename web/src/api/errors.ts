import type { ErrorBody } from "@imgedge/api-client";

/**
 * Any failed request: the API's `{"error": CODE, "message": TEXT}`, or a stand-in code for
 * failures that have no such body (`network_error`, `http_<status>`).
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    /** The HTTP status, or 0 when no response arrived. */
    readonly status: number,
    /** The stable code to program against. */
    readonly code: string,
    /** Human-readable; shown to the user as it is. */
    message: string,
  ) {
    super(message);
  }

  /** Worth trying again: no response, a rate limit, or the server's own trouble. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  static network(): ApiError {
    return new ApiError(0, "network_error", "The server could not be reached. Check the connection and try again.");
  }

  /**
   * The error of a failed response from its status and its parsed body (what the generated
   * client gives as `error`: the JSON value, or the text when it was not JSON).
   */
  static fromResult(response: Pick<Response, "status" | "statusText">, body: unknown): ApiError {
    const { status, statusText } = response;
    if (isErrorBody(body)) return new ApiError(status, body.error, body.message);
    return new ApiError(status, `http_${status}`, statusText || `The server answered ${status}.`);
  }

  /** The error of a failed response from its status and body text. */
  static fromBody(status: number, statusText: string, body: string): ApiError {
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(body);
    } catch {
      // Not JSON: a proxy's page, or nothing at all.
    }
    return ApiError.fromResult({ status, statusText }, parsed);
  }

  static async fromResponse(response: Response): Promise<ApiError> {
    const body = await response.text().catch(() => "");
    return ApiError.fromBody(response.status, response.statusText, body);
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ErrorBody).error === "string" &&
    typeof (value as ErrorBody).message === "string"
  );
}

/** A message for anything caught: the API's own, or a generic one. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}
