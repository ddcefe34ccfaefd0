/**
 * Keys and signatures of transform URLs: BLAKE3 keyed hashes, base64url without padding.
 *
 * - `url_key` (32 bytes) = BLAKE3-keyed(`url_secret`, `image_id`) at key epoch 0, and
 *   BLAKE3-keyed(`url_secret`, `image_id + ":" + epoch`) at epoch 1 and later;
 * - `sig` = base64url of the first 16 bytes of BLAKE3-keyed(`url_key`, canonical query).
 */
import { blake3 } from "@noble/hashes/blake3.js";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SIG_BYTES = 16;
const KEY_BYTES = 32;
const encoder = new TextEncoder();

/** A 32-byte key: its bytes, or 64 hex characters (as the API gives a `url_key`). */
export type Key = Uint8Array | string;

/** Base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) out += BASE64URL[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}

/** The 32 bytes of a key given as 64 hex characters (either case). Throws `TypeError`. */
export function keyFromHex(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError("a key is 64 hex characters");
  const bytes = new Uint8Array(KEY_BYTES);
  for (let i = 0; i < KEY_BYTES; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Lowercase hex of `bytes` (a `url_key` as the API gives it). */
export function keyToHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** A key's 32 bytes. Throws `TypeError` for anything else. */
export function keyBytes(key: Key): Uint8Array {
  if (typeof key === "string") return keyFromHex(key);
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new TypeError("a key is 32 bytes");
  return key;
}

/**
 * The `url_key` of an image at a key epoch (0 when the image is created; the API raises it
 * to rotate a leaked key): what the server derives from its `url_secret`.
 */
export function urlKey(urlSecret: Key, imageId: string, epoch = 0): Uint8Array {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError("a key epoch is an integer from 0");
  const input = epoch === 0 ? imageId : `${imageId}:${epoch}`;
  return blake3(encoder.encode(input), { key: keyBytes(urlSecret) });
}

/** The sig of a canonical query: its first 16 keyed-hash bytes in base64url (22 characters). */
export function signQuery(key: Key, canonicalQuery: string): string {
  return base64url(blake3(encoder.encode(canonicalQuery), { key: keyBytes(key) }).subarray(0, SIG_BYTES));
}

/** 22 base64url characters encoding 16 bytes: the last one's 4 unused low bits are zero. */
export function isWellFormedSig(sig: string): boolean {
  return /^[A-Za-z0-9_-]{21}[AQgw]$/.test(sig);
}

/** Compares two strings in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Whether `sig` is the sig of `canonicalQuery` under `key` (in constant time). */
export function verifySig(key: Key, canonicalQuery: string, sig: string): boolean {
  return constantTimeEqual(sig, signQuery(key, canonicalQuery));
}
