/** Base64 for data URIs (Deno has no built-in encoder for bytes other than via `btoa` on strings). */

/**
 * Base64-encode bytes.
 * @example
 * ```ts
 * import { encodeBase64 } from "./base64.ts";
 * encodeBase64(new Uint8Array([104, 105])); // → "aGk="
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(s);
}
