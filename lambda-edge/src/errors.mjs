// The one error type of transform-URL parsing, with the spec's stable public codes
// (answered with 400 and {"error": code, "message": text}).

import { REQUIREMENTS } from './params.mjs';

/** @typedef {import('./params.mjs').Param} Param */
/** @typedef {'bad_image_id' | 'bad_sig' | 'duplicate_param' | 'bad_value' | 'out_of_range'} ErrorCode */

export class UrlError extends Error {
  /**
   * @param {ErrorCode} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'UrlError';
    /** @readonly */
    this.code = code;
  }

  static badImageId() {
    return new UrlError('bad_image_id', 'the image id must be a lowercase hyphenated UUID');
  }

  static badSig() {
    return new UrlError('bad_sig', 'the signature must be 22 base64url characters (no padding)');
  }

  /** @param {Param} param */
  static duplicate(param) {
    return new UrlError('duplicate_param', `${param} must be given at most once`);
  }

  /** @param {Param} param */
  static badValue(param) {
    return new UrlError('bad_value', `${param} ${REQUIREMENTS[param]}`);
  }

  /** @param {Param} param */
  static outOfRange(param) {
    return new UrlError('out_of_range', `${param} ${REQUIREMENTS[param]}`);
  }
}
