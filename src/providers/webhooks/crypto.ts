/**
 * WebCrypto building blocks shared by the schemes (workerd has no Node crypto). Signatures are
 * checked with `crypto.subtle.verify`, which compares in constant time inside the runtime: the
 * expected MAC is never materialised in JavaScript, so no early-exit string compare can leak it.
 */

const encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Hex in either case; `undefined` for anything else (odd length, stray characters). */
export function decodeHex(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Standard or URL-safe base64, padded or not; `undefined` when it is not base64. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  const normalised = text.replace(/-/g, "+").replace(/_/g, "/");
  if (normalised.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(normalised)) return undefined;
  const padded = normalised.padEnd(Math.ceil(normalised.length / 4) * 4, "=");
  try {
    const binary = atob(padded);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Standard padded base64 (RFC 4648 §4), built in chunks so a large body does not spread past the argument limit. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export type HmacHash = "SHA-256" | "SHA-1";

/**
 * True when `signature` is the HMAC of `message` under `secret` (the secret's UTF-8 bytes are the
 * key, as every provider here documents). A signature of the wrong length is simply false.
 */
export async function verifyHmac(
  hash: HmacHash,
  secret: string | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const keyBytes = typeof secret === "string" ? utf8(secret) : secret;
  const key = await crypto.subtle.importKey("raw", concatBytes(keyBytes), { name: "HMAC", hash }, false, ["verify"]);
  return crypto.subtle.verify("HMAC", key, concatBytes(signature), concatBytes(message));
}

/** Constant-time equality of two strings (used for registered tokens sent back to us verbatim). */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
  // Comparing digests keeps the time independent of where the strings differ and of their lengths.
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", utf8(a)), crypto.subtle.digest("SHA-256", utf8(b))]);
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concatBytes(bytes)));
}
