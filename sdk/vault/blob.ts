import { fromUtf8 } from "./encoding";
import { VaultError } from "./errors";

/** Anything `JSON.stringify` round-trips: what a note holds. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * The current format. Every parameter needed to decrypt is in the blob (all JSON, bytes as
 * standard base64), so a later SDK with stronger defaults still opens it.
 */
export interface VaultBlobV2 {
  version: 2;
  kdf: "PBKDF2";
  hash: "SHA-256";
  iterations: number;
  /** 16 random bytes. */
  salt: string;
  cipher: "AES-256-GCM";
  /** 12 random bytes, fresh for every encryption. */
  iv: string;
  /** AES-GCM output: the encrypted UTF-8 JSON of the note followed by the 16-byte tag. */
  ciphertext: string;
}

/** The legacy format: salt = SHA-256(normalized email), 100,000 iterations, tag stored apart. */
export interface VaultBlobV1 {
  version: 1;
  ciphertext: string;
  iv: string;
  authTag: string;
  timestamp?: number;
}

export type VaultBlob = VaultBlobV1 | VaultBlobV2;

type Fields = Record<string, unknown>;

export function readEnvelope(blob: unknown): Fields & { version: number } {
  if (typeof blob !== "object" || blob === null || Array.isArray(blob)) throw malformed("a blob must be a JSON object");
  const fields = blob as Fields;
  if (typeof fields.version !== "number" || !Number.isInteger(fields.version)) throw malformed("version must be an integer");
  return { ...fields, version: fields.version };
}

export function stringField(fields: Fields, name: string): string {
  const value = fields[name];
  if (typeof value !== "string") throw malformed(`${name} must be a string`);
  return value;
}

export function expectField(fields: Fields, name: string, expected: string | number): void {
  if (fields[name] !== expected) {
    throw new VaultError(
      "UNSUPPORTED",
      `Unsupported ${name} ${JSON.stringify(fields[name])}; expected ${JSON.stringify(expected)}.`,
    );
  }
}

export function malformed(reason: string): VaultError {
  return new VaultError("MALFORMED_BLOB", `Not a valid vault blob: ${reason}.`);
}

/** The authenticated plaintext is the note's UTF-8 JSON; it is wiped once parsed. */
export function parseNote(plaintext: Uint8Array): unknown {
  try {
    return JSON.parse(fromUtf8(plaintext));
  } catch {
    throw malformed("the decrypted note is not UTF-8 JSON");
  } finally {
    plaintext.fill(0);
  }
}
