/** The stable codes of transform URL errors (docs/transform-urls.md, "Responses"). */
export type UrlErrorCode =
  | "bad_image_id"
  | "bad_sig"
  | "duplicate_param"
  | "bad_value"
  | "out_of_range";

/** An invalid transform URL, with the code an edge answers it with (400). */
export class UrlError extends Error {
  override readonly name = "UrlError";

  constructor(
    readonly code: UrlErrorCode,
    message: string,
    /** The parameter at fault, when one is. */
    readonly param?: string,
  ) {
    super(message);
  }
}
