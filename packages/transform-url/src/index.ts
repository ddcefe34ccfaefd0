/**
 * Transform URLs, version 1.1: the one TypeScript implementation of imgedge's URL contract,
 * shared by the web client and the Lambda@Edge function.
 */
export { ACCEPT_CLASSES, ACCEPT_CLASS_HEADER, acceptClass, isAcceptClass, type AcceptClass } from "./accept.js";
export { signVariant, transformPath, transformUrl, transformVariant, type SignedVariant, type SigningImage } from "./builder.js";
export { formDecode, percentEncode, scalarLength } from "./encoding.js";
export { withFocus } from "./focus.js";
export { URL_ERROR_CODES, UrlError, type UrlErrorCode } from "./errors.js";
export { cacheKey, isAutoFormat, originalKey, requestAcceptClass, variantKey } from "./keys.js";
export {
  COMPASS_GRAVITIES,
  DEFAULT_QUALITY,
  FITS,
  FORMATS,
  GRAVITY_WORDS,
  MAX_BLUR,
  MAX_CROP_OFFSET,
  MAX_CROP_SIZE,
  MAX_DIMENSION,
  MAX_DPR,
  MAX_SHARPEN,
  MAX_WATERMARK_CHARS,
  MIN_BLUR,
  MIN_DPR,
  MIN_SHARPEN,
  OUTPUT_FORMATS,
  PARAM_NAMES,
  REQUIREMENTS,
  isParamName,
  type CompassGravity,
  type Crop,
  type Fit,
  type FocalPoint,
  type Format,
  type Gravity,
  type GravityWord,
  type OutputFormat,
  type ParamName,
} from "./params.js";
export {
  canonicalQuery,
  canonicalQueryOf,
  knownPairs,
  parseQuery,
  toParamValues,
  type KnownPair,
  type ParamValues,
  type ParsedQuery,
  type TransformOptions,
  type TransformSpec,
} from "./query.js";
export {
  canonicalPath,
  decide,
  isImageId,
  parseTransformRequest,
  requestOutcome,
  variantPath,
  type Outcome,
  type TransformRequest,
  type VariantRef,
} from "./request.js";
export {
  base64url,
  constantTimeEqual,
  isWellFormedSig,
  keyBytes,
  keyFromHex,
  keyToHex,
  signQuery,
  urlKey,
  verifySig,
  type Key,
} from "./sign.js";
