/**
 * Opaque credentials `id.secret` (refresh tokens, device credentials): the id finds the row, the
 * secret proves possession. Secrets are 256 random bits, so a plain SHA-256 is a sufficient and
 * fast verifier (no password hashing needed, DESIGN §2); comparison is constant-time.
 */
const encoder = new TextEncoder();

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function randomSecret(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two equal-length strings (hex digests). */
export function timingSafeEqualText(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  if (left.byteLength !== right.byteLength) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}

export interface OpaqueToken {
  id: string;
  secret: string;
}

const OPAQUE_TOKEN = /^([a-z]{3}_[a-z2-7]{26})\.([A-Za-z0-9_-]{43})$/;

export function formatOpaqueToken(token: OpaqueToken): string {
  return `${token.id}.${token.secret}`;
}

/** Parses `id.secret`; anything else is undefined (the caller answers 401 without detail). */
export function parseOpaqueToken(value: string, prefix: string): OpaqueToken | undefined {
  const match = OPAQUE_TOKEN.exec(value);
  if (!match?.[1] || !match[2] || !match[1].startsWith(`${prefix}_`)) return undefined;
  return { id: match[1], secret: match[2] };
}

/** True when `secret` hashes to `expectedHash`, compared in constant time. */
export async function secretMatches(secret: string, expectedHash: string): Promise<boolean> {
  return timingSafeEqualText(await sha256Hex(secret), expectedHash);
}
