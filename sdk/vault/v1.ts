import { malformed, parseNote, readEnvelope, stringField } from "./blob";
import { concat, fromBase64 } from "./encoding";
import { decryptFailed, VaultError } from "./errors";
import { deriveAesKey, V1_ITERATIONS, v1Salt } from "./kdf";

/**
 * Reads a v1 blob (read-only: new notes are always v2). v1 derived its key from the password and
 * SHA-256 of the normalized account email at 100,000 iterations, and stored the AES-GCM tag apart
 * from the ciphertext; WebCrypto expects them joined.
 */
export async function decryptV1(password: string, blob: unknown, email: string | undefined): Promise<unknown> {
  const fields = readEnvelope(blob);
  if (email === undefined) throw new VaultError("EMAIL_REQUIRED", "A v1 blob needs the account email to derive its key.");
  const ciphertext = fromBase64(stringField(fields, "ciphertext"));
  const iv = fromBase64(stringField(fields, "iv"));
  const tag = fromBase64(stringField(fields, "authTag"));
  if (ciphertext === null) throw malformed("ciphertext must be base64");
  if (iv === null || iv.length !== 12) throw malformed("iv must be base64 of 12 bytes");
  if (tag === null || tag.length !== 16) throw malformed("authTag must be base64 of 16 bytes");
  const key = await deriveAesKey(password, await v1Salt(email), V1_ITERATIONS);
  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, concat(ciphertext, tag)));
  } catch {
    throw decryptFailed();
  }
  return parseNote(plaintext);
}
