export type VaultErrorCode =
  /** AES-GCM refused the tag: the password is wrong, or the blob was altered. They cannot be told apart. */
  | "DECRYPT_FAILED"
  /** Not a vault blob, or a field has the wrong type, length or encoding. */
  | "MALFORMED_BLOB"
  /** A version or parameter this SDK does not know. */
  | "UNSUPPORTED"
  /** v1 blobs derive their salt from the account email, so it must be given to decrypt them. */
  | "EMAIL_REQUIRED";

export class VaultError extends Error {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string) {
    super(message);
    this.name = "VaultError";
    this.code = code;
  }
}

export function decryptFailed(): VaultError {
  return new VaultError("DECRYPT_FAILED", "Could not decrypt the note: the password is wrong or the blob was altered.");
}
