// CloudFront Function (cloudfront-js-2.0), viewer request of /i/*: reduces the viewer's
// `Accept` header to the accept class of transform URLs 1.1 (`avif`, `webp`, `basic`) and
// keeps it in `x-imgedge-accept`, which the /i/* cache policy puts in the cache key (and so
// forwards to the Lambda@Edge origin request, which picks the S3 key `v/{id}/{sig}.{class}`).
//
// - A client's own `x-imgedge-accept` is always removed: only this function sets it.
// - The class is set only when the query has `format` with the (form-decoded) value `auto`;
//   every other URL's cache key has no class, whatever the headers. Nothing here validates
//   or canonicalises the query: the Lambda@Edge origin request answers 400 or 301 for a
//   query that is not canonical, and the cache key of such a request matters little.
//
// Not deployed as is: lib/accept-function.ts bundles this file with the one implementation
// of the rule (packages/transform-url/src/accept.ts) into a single script with a top-level
// `function handler(event)` and no import or export, as CloudFront Functions require.

import { ACCEPT_CLASS_HEADER, acceptClass } from '../../../packages/transform-url/src/accept.js';

/** A query string parameter, header or cookie, as CloudFront Functions represent it. */
export interface Field {
  value: string;
  /** Present when the name occurs more than once: every value, the first included. */
  multiValue?: { value: string }[];
}

/** Query strings, headers or cookies by name (header names are lowercase). */
export type Fields = Record<string, Field | undefined>;

/** The `request` of a viewer-request event. */
export interface ViewerRequest {
  method: string;
  uri: string;
  querystring: Fields;
  headers: Fields;
  cookies?: Fields;
}

/** A CloudFront Functions viewer-request event (the parts this function reads). */
export interface ViewerRequestEvent {
  version?: string;
  context?: Record<string, unknown>;
  viewer?: { ip: string };
  request: ViewerRequest;
}

/** Every value of a field, in order (one, or each of a repeated name's). */
function valuesOf(field: Field): string[] {
  const values: string[] = [];
  if (field.multiValue) {
    for (let i = 0; i < field.multiValue.length; i++) values.push(field.multiValue[i]!.value);
  } else {
    values.push(field.value);
  }
  return values;
}

/** A query component form-decoded (`+` is a space); itself when it has a broken escape. */
function formDecode(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (e) {
    return raw;
  }
}

/** Whether some `format` parameter of the query has the value `auto`. */
function asksFormatAuto(querystring: Fields): boolean {
  for (const name in querystring) {
    const field = querystring[name];
    if (!field || formDecode(name) !== 'format') continue;
    const values = valuesOf(field);
    for (let i = 0; i < values.length; i++) {
      if (formDecode(values[i]!) === 'auto') return true;
    }
  }
  return false;
}

/**
 * The viewer's `Accept` header: `undefined` when it sent none; several `Accept` lines are one
 * list, joined with `,` as HTTP combines repeated fields (RFC 9110, section 5.3).
 */
function acceptHeader(headers: Fields): string | undefined {
  const field = headers.accept;
  return field ? valuesOf(field).join(',') : undefined;
}

export function handler(event: ViewerRequestEvent): ViewerRequest {
  const request = event.request;
  delete request.headers[ACCEPT_CLASS_HEADER];
  if (asksFormatAuto(request.querystring)) {
    request.headers[ACCEPT_CLASS_HEADER] = { value: acceptClass(acceptHeader(request.headers)) };
  }
  return request;
}
