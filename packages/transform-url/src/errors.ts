/** The errors of transform URLs: the spec's stable public codes, answered with 400. */
import { REQUIREMENTS, type ParamName } from "./params.js";

/** The stable codes of an invalid transform URL (`{"error": CODE, "message": TEXT}`, 400). */
export type UrlErrorCode = "bad_image_id" | "bad_sig" | "duplicate_param" | "bad_value" | "out_of_range";

/** Every error code. */
export const URL_ERROR_CODES: readonly UrlErrorCode[] = [
  "bad_image_id",
  "bad_sig",
  "duplicate_param",
  "bad_value",
  "out_of_range",
];

/**
 * An invalid transform URL, with the code an edge answers it with (400). The messages are
 * the Rust implementation's, so that a 400 reads the same whichever component answered it.
 */
export class UrlError extends Error {
  override readonly name = "UrlError";
  /** The spec's code. */
  readonly code: UrlErrorCode;
  /** The parameter at fault, for query errors. */
  readonly param: ParamName | undefined;

  constructor(code: UrlErrorCode, message: string, param?: ParamName) {
    super(message);
    this.code = code;
    this.param = param;
  }

  static badImageId(): UrlError {
    return new UrlError("bad_image_id", "the image id must be a lowercase hyphenated UUID");
  }

  static badSig(): UrlError {
    return new UrlError("bad_sig", "the signature must be 22 base64url characters (no padding)");
  }

  static duplicate(param: ParamName): UrlError {
    return new UrlError("duplicate_param", `${param} must be given at most once`, param);
  }

  static badValue(param: ParamName): UrlError {
    return new UrlError("bad_value", `${param} ${REQUIREMENTS[param]}`, param);
  }

  static outOfRange(param: ParamName): UrlError {
    return new UrlError("out_of_range", `${param} ${REQUIREMENTS[param]}`, param);
  }

  /** The 400 body, `{"error": CODE, "message": TEXT}`. */
  toJSON(): { error: UrlErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}
