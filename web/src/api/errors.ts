import type { ErrorBody } from "./types";

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

  /** Builds the error of a failed response from its status and body text. */
  static fromBody(status: number, statusText: string, body: string): ApiError {
    const parsed = parseErrorBody(body);
    if (parsed) return new ApiError(status, parsed.error, parsed.message);
    return new ApiError(status, `http_${status}`, statusText || `The server answered ${status}.`);
  }

  static async fromResponse(response: Response): Promise<ApiError> {
    const body = await response.text().catch(() => "");
    return ApiError.fromBody(response.status, response.statusText, body);
  }
}

function parseErrorBody(text: string): ErrorBody | null {
  try {
    const value: unknown = JSON.parse(text);
    if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as ErrorBody).error === "string" &&
      typeof (value as ErrorBody).message === "string"
    ) {
      return value as ErrorBody;
    }
  } catch {
    // Not JSON: a proxy's page, or nothing at all.
  }
  return null;
}

/** A message for anything caught: the API's own, or a generic one. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message) return error.message;
  return "Something went wrong.";
}
