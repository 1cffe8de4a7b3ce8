import { expectField, type JsonValue, malformed, parseNote, readEnvelope, stringField, type VaultBlobV2 } from "./blob";
import { fromBase64, toBase64, utf8 } from "./encoding";
import { decryptFailed, VaultError } from "./errors";
import { deriveAesKey, MAX_ITERATIONS, V1_ITERATIONS, V2_ITERATIONS } from "./kdf";

const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The parameters, bound to the ciphertext as AES-GCM additional data (NIST SP 800-38D §7): a blob
 * whose recorded parameters were edited fails authentication instead of decrypting under them.
 */
function additionalData(
  blob: Pick<VaultBlobV2, "version" | "kdf" | "hash" | "iterations" | "salt" | "cipher">,
): Uint8Array<ArrayBuffer> {
  return utf8(["pulse-vault", blob.version, blob.kdf, blob.hash, blob.iterations, blob.salt, blob.cipher].join("|"));
}

export async function encryptV2(password: string, data: JsonValue): Promise<VaultBlobV2> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const header = {
    version: 2,
    kdf: "PBKDF2",
    hash: "SHA-256",
    iterations: V2_ITERATIONS,
    salt: toBase64(salt),
    cipher: "AES-256-GCM",
  } as const;
  const key = await deriveAesKey(password, salt, V2_ITERATIONS);
  const plaintext = utf8(JSON.stringify(data));
  try {
    const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: additionalData(header) }, key, plaintext);
    return { ...header, iv: toBase64(iv), ciphertext: toBase64(new Uint8Array(sealed)) };
  } finally {
    plaintext.fill(0);
  }
}

export async function decryptV2(password: string, blob: unknown): Promise<unknown> {
  const fields = readEnvelope(blob);
  expectField(fields, "version", 2);
  expectField(fields, "kdf", "PBKDF2");
  expectField(fields, "hash", "SHA-256");
  expectField(fields, "cipher", "AES-256-GCM");
  const iterations = fields.iterations;
  if (
    typeof iterations !== "number" ||
    !Number.isInteger(iterations) ||
    iterations < V1_ITERATIONS ||
    iterations > MAX_ITERATIONS
  ) {
    throw new VaultError("UNSUPPORTED", `iterations must be an integer from ${V1_ITERATIONS} to ${MAX_ITERATIONS}.`);
  }
  const header = {
    version: 2,
    kdf: "PBKDF2",
    hash: "SHA-256",
    iterations,
    salt: stringField(fields, "salt"),
    cipher: "AES-256-GCM",
  } as const;
  const salt = bytesOf(header.salt, "salt", SALT_BYTES);
  const iv = bytesOf(stringField(fields, "iv"), "iv", IV_BYTES);
  const sealed = fromBase64(stringField(fields, "ciphertext"));
  if (sealed === null || sealed.length < TAG_BYTES) throw malformed("ciphertext must be base64 of at least the 16-byte tag");
  const key = await deriveAesKey(password, salt, iterations);
  let plaintext: Uint8Array;
  try {
    plaintext = new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: additionalData(header) }, key, sealed),
    );
  } catch {
    throw decryptFailed();
  }
  return parseNote(plaintext);
}

function bytesOf(text: string, name: string, length: number): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64(text);
  if (bytes === null || bytes.length !== length) throw malformed(`${name} must be base64 of ${length} bytes`);
  return bytes;
}
