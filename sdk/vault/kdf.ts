import { utf8 } from "./encoding";

/**
 * Password-based key derivation: PBKDF2 (RFC 8018 §5.2) with HMAC-SHA-256, 32 bytes of output
 * used as an AES-256-GCM key. OWASP's Password Storage Cheat Sheet recommends 600,000 iterations
 * for PBKDF2-HMAC-SHA256; v1 blobs used 100,000.
 */
export const V2_ITERATIONS = 600_000;
export const V1_ITERATIONS = 100_000;
/** Bounds for iteration counts read from a blob: no downgrade below v1, no hour-long derivation. */
export const MAX_ITERATIONS = 10_000_000;

export async function deriveKeyBytes(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey("raw", utf8(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, 256);
  return new Uint8Array(bits);
}

/** The derived bytes as a non-extractable AES-GCM key; the raw bytes are overwritten once imported. */
export async function deriveAesKey(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const bytes = new Uint8Array(await deriveKeyBytes(password, salt, iterations));
  try {
    return await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
  } finally {
    bytes.fill(0);
  }
}

/** v1's salt: SHA-256 of the normalized email (trimmed, lower-cased), so it needed no storage. */
export async function v1Salt(email: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(normalizeEmail(email))));
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
