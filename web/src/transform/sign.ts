/** Keys and signatures of transform URLs: BLAKE3 keyed hashes, base64url without padding. */
import { blake3 } from "@noble/hashes/blake3.js";
import { hexToBytes } from "@noble/hashes/utils.js";

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const SIG_BYTES = 16;
const encoder = new TextEncoder();

/** Base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let c = 0; c < chars; c++) out += BASE64URL[(n >> (18 - 6 * c)) & 63];
  }
  return out;
}

/** A 32-byte key given as 64 hex characters. */
export function keyFromHex(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError("a key is 64 hex characters");
  return hexToBytes(hex);
}

/** `url_key = BLAKE3-keyed(url_secret, image_id as ASCII)`: what the server derives. */
export function deriveUrlKey(urlSecret: Uint8Array, imageId: string): Uint8Array {
  return blake3(encoder.encode(imageId), { key: urlSecret });
}

/** The sig of a canonical query: its first 16 keyed-hash bytes, base64url: 22 characters. */
export function signQuery(urlKey: Uint8Array, canonicalQuery: string): string {
  return base64url(blake3(encoder.encode(canonicalQuery), { key: urlKey }).subarray(0, SIG_BYTES));
}

/** `/i/{image_id}/{sig}`, then `?{query}` unless the query is empty. */
export function variantPath(imageId: string, sig: string, canonicalQuery: string): string {
  const path = `/i/${imageId}/${sig}`;
  return canonicalQuery ? `${path}?${canonicalQuery}` : path;
}

/** 22 base64url characters encoding 16 bytes: the last one's 4 unused low bits are zero. */
export function isWellFormedSig(sig: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(sig) && (BASE64URL.indexOf(sig[21]) & 0x0f) === 0;
}

/** Compares two strings in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
