/**
 * Query strings of transform URLs: decoding a raw query as the edge does, and building the
 * one canonical query of a set of parameters.
 */
import { UrlError } from "./errors";
import { PARAM_NAMES, checkValue, isParamName, percentEncode, type ParamName } from "./params";

/** Canonical values by parameter; a parameter given with its default value maps to `null`. */
export type CanonicalValues = Partial<Record<ParamName, string | null>>;

/** A valid query, parsed. */
export interface ParsedQuery {
  readonly values: CanonicalValues;
  /** The canonical query (no leading `?`; empty for the original). */
  readonly canonicalQuery: string;
  /** Whether the query, without unknown parameters and empty pieces, is already canonical. */
  readonly isCanonical: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Form-decodes one name or value: `+` is a space, `%XX` in either hex case. Returns `null`
 * for a malformed escape or bytes that are not UTF-8.
 */
export function formDecode(raw: string): string | null {
  const bytes: number[] = [];
  let literal = "";
  const flush = () => {
    if (literal) bytes.push(...encoder.encode(literal));
    literal = "";
  };
  for (let i = 0; i < raw.length; ) {
    const ch = raw[i];
    if (ch === "+") {
      flush();
      bytes.push(0x20);
      i += 1;
    } else if (ch === "%") {
      flush();
      const pair = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(pair)) return null;
      bytes.push(parseInt(pair, 16));
      i += 3;
    } else {
      literal += ch;
      i += 1;
    }
  }
  flush();
  try {
    return utf8.decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

interface KnownPair {
  /** The piece exactly as it appeared in the query. */
  readonly raw: string;
  readonly name: ParamName;
  /** The value, still encoded. */
  readonly rawValue: string;
}

/** The query's pieces with a known name; unknown ones and empty pieces are dropped unread. */
function knownPairs(query: string): KnownPair[] {
  const pairs: KnownPair[] = [];
  for (const piece of query.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const rawName = eq === -1 ? piece : piece.slice(0, eq);
    const rawValue = eq === -1 ? "" : piece.slice(eq + 1);
    const name = formDecode(rawName);
    if (name !== null && isParamName(name)) pairs.push({ raw: piece, name, rawValue });
  }
  return pairs;
}

/** Joins canonical values in table order, leaving out defaults, and `fit` unless it matters. */
export function canonicalQuery(values: CanonicalValues): string {
  const keepFit = values.fit != null && values.fit !== "cover" && values.width != null && values.height != null;
  return PARAM_NAMES.filter((name) => values[name] != null && (name !== "fit" || keepFit))
    .map((name) => `${name}=${values[name]}`)
    .join("&");
}

/**
 * Parses a raw query (without `?`) exactly as an edge does. Throws {@link UrlError} for an
 * invalid query: duplicates first, then each value in query order.
 */
export function parseQuery(query: string): ParsedQuery {
  const pairs = knownPairs(query);
  const seen = new Set<ParamName>();
  for (const { name } of pairs) {
    if (seen.has(name)) throw new UrlError("duplicate_param", `${name} is given more than once`, name);
    seen.add(name);
  }
  const values: CanonicalValues = {};
  for (const { name, rawValue } of pairs) {
    const value = formDecode(rawValue);
    if (value === null) {
      throw new UrlError("bad_value", `${name} has a malformed escape or is not UTF-8`, name);
    }
    values[name] = checkValue(name, value);
  }
  const canonical = canonicalQuery(values);
  const filtered = pairs.map((pair) => pair.raw).join("&");
  return { values, canonicalQuery: canonical, isCanonical: filtered === canonical };
}

/** Decoded values by parameter, as a form would hold them (booleans as `1`/`0`/`true`/`false`). */
export type ParamValues = Partial<Record<ParamName, string>>;

/**
 * The canonical query of decoded values, checked by the same rules as a URL's query.
 * `undefined` and empty strings mean "not given" (an empty watermark is its default anyway).
 * Throws {@link UrlError}.
 */
export function canonicalQueryOf(params: ParamValues): string {
  const raw = PARAM_NAMES.filter((name) => params[name] !== undefined && params[name] !== "")
    .map((name) => `${name}=${percentEncode(params[name] ?? "")}`)
    .join("&");
  return parseQuery(raw).canonicalQuery;
}
