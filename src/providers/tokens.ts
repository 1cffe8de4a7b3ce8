/**
 * Provider tokens at rest (DESIGN §5): AES-256-GCM under versioned keys.
 *
 * `TOKEN_ENCRYPTION_KEYS` is `v2:<base64>,v1:<base64>`, newest first (src/config/config.ts). The
 * newest key seals; every listed key still opens what it sealed, so keys rotate without a flag
 * day: add a key in front, run `npm run keys:rotate-tokens` (which re-seals every row under the
 * newest key through `reencryptToken`), then drop the old key.
 *
 * A sealed token is `<key id>.<iv>.<ciphertext+tag>` (base64url, 96-bit random IV per NIST SP
 * 800-38D §8.2.2; a fresh IV for every seal, so 2^32 seals per key stay far below the bound).
 * The additional authenticated data binds the token to its row and role — user id, provider,
 * connection id, and whether it is the access or refresh token — so a ciphertext copied into
 * another row, or swapped between the two columns, fails authentication instead of decrypting.
 *
 * Errors never carry key material, plaintext or ciphertext: only the key id, which is not secret.
 */
import { DomainError } from "../errors/domain-error";

export type TokenKind = "access" | "refresh";

/** What a sealed token belongs to; every field is authenticated (AAD), none is encrypted. */
export interface TokenBinding {
  userId: string;
  provider: string;
  connectionId: string;
  kind: TokenKind;
}

export interface TokenKeyring {
  /** The key that seals: the first listed. */
  currentId: string;
  keys: ReadonlyMap<string, CryptoKey>;
}

/** Why a sealed token could not be opened; the HTTP layer sees only an INTERNAL error. */
export type TokenFailure = "malformed" | "unknown_key" | "not_authentic";

export class TokenDecryptionError extends DomainError {
  readonly reason: TokenFailure;

  constructor(reason: TokenFailure, detail: string) {
    super("INTERNAL", detail);
    this.name = "TokenDecryptionError";
    this.reason = reason;
  }
}

const KEY_ENTRY = /^(v\d+):([A-Za-z0-9+/]{43}=)$/;
const SEALED = /^(v\d+)\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;
const AAD_LABEL = "pulse/provider-token/v1";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Imports the configured keys (non-extractable). Throws on a malformed or repeated key id. */
export async function importTokenKeys(entries: readonly string[]): Promise<TokenKeyring> {
  const keys = new Map<string, CryptoKey>();
  for (const entry of entries) {
    const match = KEY_ENTRY.exec(entry);
    if (!match?.[1] || !match[2])
      throw new DomainError("INTERNAL", "TOKEN_ENCRYPTION_KEYS has an entry that is not v<N>:<base64>.");
    const [, id, material] = match;
    if (keys.has(id)) throw new DomainError("INTERNAL", `TOKEN_ENCRYPTION_KEYS lists key ${id} twice.`);
    const raw = Uint8Array.from(atob(material), (char) => char.charCodeAt(0));
    keys.set(id, await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]));
  }
  const currentId = entries[0]?.split(":")[0];
  if (currentId === undefined) throw new DomainError("INTERNAL", "TOKEN_ENCRYPTION_KEYS lists no key.");
  return { currentId, keys };
}

const keyrings = new WeakMap<readonly string[], Promise<TokenKeyring>>();

/** The keyring for a parsed configuration, imported once per isolate (STYLE "Types and environment"). */
export function tokenKeyringFor(config: { TOKEN_ENCRYPTION_KEYS: readonly string[] }): Promise<TokenKeyring> {
  const entries = config.TOKEN_ENCRYPTION_KEYS;
  let keyring = keyrings.get(entries);
  if (!keyring) {
    keyring = importTokenKeys(entries);
    keyrings.set(entries, keyring);
  }
  return keyring;
}

/** Seals a token under the newest key. */
export async function encryptToken(keyring: TokenKeyring, binding: TokenBinding, token: string): Promise<string> {
  const key = keyring.keys.get(keyring.currentId);
  if (!key) throw new DomainError("INTERNAL", "The current token key is missing from the keyring.");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(binding) },
    key,
    encoder.encode(token),
  );
  return `${keyring.currentId}.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`;
}

/** Opens a sealed token; refuses one sealed for another row or role, altered, or under an unknown key. */
export async function decryptToken(keyring: TokenKeyring, binding: TokenBinding, sealed: string): Promise<string> {
  const match = SEALED.exec(sealed);
  if (!match?.[1] || !match[2] || !match[3]) throw new TokenDecryptionError("malformed", "A stored provider token is malformed.");
  const [, keyId, iv, ciphertext] = match;
  const key = keyring.keys.get(keyId);
  if (!key) {
    throw new TokenDecryptionError(
      "unknown_key",
      `A stored provider token is sealed under key ${keyId}, which is not configured.`,
    );
  }
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64url(iv), additionalData: additionalData(binding) },
      key,
      fromBase64url(ciphertext),
    );
    return decoder.decode(plaintext);
  } catch {
    // Wrong binding, altered bytes, an impossible base64 length: all one answer, nothing echoed.
    throw new TokenDecryptionError("not_authentic", "A stored provider token failed authentication.");
  }
}

/** The key id a sealed token names, or null when it is not a sealed token. */
export function sealedKeyId(sealed: string): string | null {
  return SEALED.exec(sealed)?.[1] ?? null;
}

/**
 * Re-seals a token under the newest key (key rotation). A token already under the newest key is
 * returned unchanged, so a rotation run can be repeated and interrupted safely.
 */
export async function reencryptToken(
  keyring: TokenKeyring,
  binding: TokenBinding,
  sealed: string,
): Promise<{ sealed: string; changed: boolean }> {
  if (sealedKeyId(sealed) === keyring.currentId) {
    // Still authenticate it: a rotation run doubles as a check that every stored token opens.
    await decryptToken(keyring, binding, sealed);
    return { sealed, changed: false };
  }
  const token = await decryptToken(keyring, binding, sealed);
  return { sealed: await encryptToken(keyring, binding, token), changed: true };
}

/** Length-prefixed fields, so no choice of ids can make two bindings encode alike. */
function additionalData(binding: TokenBinding): Uint8Array {
  const fields = [AAD_LABEL, binding.userId, binding.provider, binding.connectionId, binding.kind];
  return encoder.encode(fields.map((field) => `${field.length}:${field}`).join("|"));
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")), (char) => char.charCodeAt(0));
}

/** The token columns of one connection row, as the rotation needs them (no drizzle types: the script bundles this). */
export interface SealedConnectionTokens {
  id: string;
  userId: string;
  provider: string;
  accessTokenCiphertext: string | null;
  refreshTokenCiphertext: string | null;
}

/**
 * Re-seals both tokens of a connection under the newest key; null when both already are (or the
 * row holds none). The one function behind `npm run keys:rotate-tokens` and `rotateConnectionTokens`.
 */
export async function reencryptConnection(
  keyring: TokenKeyring,
  row: SealedConnectionTokens,
): Promise<{ accessTokenCiphertext: string | null; refreshTokenCiphertext: string | null } | null> {
  const binding = (kind: TokenKind): TokenBinding => ({ userId: row.userId, provider: row.provider, connectionId: row.id, kind });
  const access =
    row.accessTokenCiphertext === null ? null : await reencryptToken(keyring, binding("access"), row.accessTokenCiphertext);
  const refresh =
    row.refreshTokenCiphertext === null ? null : await reencryptToken(keyring, binding("refresh"), row.refreshTokenCiphertext);
  if (!access?.changed && !refresh?.changed) return null;
  return { accessTokenCiphertext: access?.sealed ?? null, refreshTokenCiphertext: refresh?.sealed ?? null };
}
