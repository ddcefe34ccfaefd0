/** The API's JSON shapes (GET /v1/openapi.json), as the client uses them. */

/** POST /v1/auth/login and /v1/auth/refresh. */
export interface Session {
  access_token: string;
  token_type: "Bearer";
  /** Seconds until the access token expires. */
  expires_in: number;
  /**
   * Single use: exchange it at /v1/auth/refresh for the next session. Absent in cookie mode
   * (`refresh_cookie` at sign-in), the web client's: then it is in an HttpOnly cookie.
   */
  refresh_token?: string;
}

/** POST /v1/auth/register: the same answer whether the email was new or taken. */
export interface Registered {
  /** The email as stored (trimmed, lowercased). */
  email: string;
}

export interface ImageMetadata {
  id: string;
  filename?: string | null;
  /** Source format: jpeg, png, webp, gif, heic or avif. */
  format: string;
  /** Upright width (EXIF orientation applied), in pixels. */
  width: number;
  height: number;
  frames: number;
  /** Size of the original, in bytes. */
  bytes: number;
  /** BLAKE3 of the original's bytes, hex. */
  blake3: string;
  /** RFC 3339. */
  created_at: string;
  /** Signs this image's transform URLs (64 hex characters). */
  url_key: string;
  /** The signed URL of the original, re-encoded. */
  url: string;
}

export interface ImageList {
  items: ImageMetadata[];
  /** Absent (or null) on the last page. */
  next_cursor?: string | null;
}

/** Every error response's body. */
export interface ErrorBody {
  error: string;
  message: string;
}
