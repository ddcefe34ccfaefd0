// The parameters of transform URLs (spec transform-url-v1, table "Parameters"), in
// canonical order. This list is the one source for the edge: the function keeps exactly
// these names, and the CDK stack builds the /i/* cache policy's query-string allow-list
// from it (its tests check it against the shared vector file).

/** @typedef {'width' | 'height' | 'fit' | 'rotate' | 'flip' | 'mirror' | 'grayscale' | 'blur' | 'quality' | 'format' | 'watermarkText'} Param */

/** @type {readonly Param[]} */
export const PARAMS = Object.freeze([
  'width',
  'height',
  'fit',
  'rotate',
  'flip',
  'mirror',
  'grayscale',
  'blur',
  'quality',
  'format',
  'watermarkText',
]);

/**
 * What each parameter accepts, as the end of a sentence starting with its name: the same
 * messages as the Rust parser's (`Param::requirement`), so a 400 reads the same whichever
 * implementation answered it.
 * @type {Readonly<Record<Param, string>>}
 */
export const REQUIREMENTS = Object.freeze({
  width: 'must be an integer from 1 to 8192',
  height: 'must be an integer from 1 to 8192',
  fit: 'must be one of cover, contain, fill, inside, outside',
  rotate: 'must be an integer number of degrees',
  flip: 'must be 1, true, 0 or false',
  mirror: 'must be 1, true, 0 or false',
  grayscale: 'must be 1, true, 0 or false',
  blur: 'must be a decimal sigma of 0 or from 0.3 to 100 (rounded to one fractional digit)',
  quality: 'must be an integer from 1 to 100',
  format: 'must be one of jpeg, jpg, png, webp, avif',
  watermarkText:
    'must be UTF-8 text of at most 64 characters (after NFC) without control characters',
});

/**
 * The parameter whose name is exactly `name`, if any (names are case-sensitive).
 * @param {string} name
 * @returns {Param | undefined}
 */
export function paramNamed(name) {
  return /** @type {readonly string[]} */ (PARAMS).includes(name)
    ? /** @type {Param} */ (name)
    : undefined;
}
