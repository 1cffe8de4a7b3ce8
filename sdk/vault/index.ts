/**
 * Pulse vault client SDK: notes encrypted on the device with a key derived from the user's
 * password, so the server stores blobs it cannot read (docs/vault.md). WebCrypto only, no
 * dependencies: runs in browsers, Node 20+ and Workers.
 *
 *   const blob = await encryptNote(password, { mood: "calm" });   // PUT /v1/vault/:id with blob
 *   const note = await decryptNote(password, blob);               // v1 blobs: { email } as well
 */
import { type JsonValue, readEnvelope, type VaultBlobV2 } from "./blob";
import { VaultError } from "./errors";
import { decryptV1 } from "./v1";
import { decryptV2, encryptV2 } from "./v2";

export type { JsonValue, VaultBlob, VaultBlobV1, VaultBlobV2 } from "./blob";
export { VaultError, type VaultErrorCode } from "./errors";
export { deriveKeyBytes, normalizeEmail, V1_ITERATIONS, V2_ITERATIONS, v1Salt } from "./kdf";

export interface DecryptOptions {
  /** The account email; needed only for v1 blobs, whose salt derives from it. */
  email?: string;
}

/** Encrypts a JSON note into a v2 blob (PBKDF2-SHA256 × 600,000, random salt and IV, AES-256-GCM). */
export function encryptNote(password: string, data: JsonValue): Promise<VaultBlobV2> {
  return encryptV2(password, data);
}

/** Decrypts a v2 or v1 blob to its note; throws `VaultError` (wrong password and tampering look alike). */
export async function decryptNote(password: string, blob: unknown, options: DecryptOptions = {}): Promise<unknown> {
  const { version } = readEnvelope(blob);
  if (version === 2) return decryptV2(password, blob);
  if (version === 1) return decryptV1(password, blob, options.email);
  throw new VaultError("UNSUPPORTED", `Unsupported vault blob version ${version}.`);
}
