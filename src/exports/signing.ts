/**
 * Signed download URLs for export archives. A browser follows a link without a bearer token, so
 * the URL itself is the credential: `expires` (unix seconds) and an HMAC-SHA-256 over
 * `exportId "\n" userId "\n" expires`. Binding the user id means a signature can never be moved to
 * another person's export, even one with a colliding id.
 *
 * The HMAC key is derived with HKDF-SHA-256 (RFC 5869) from the newest `TOKEN_ENCRYPTION_KEYS`
 * entry with its own `info`, so no new secret is deployed and the derived key is useless for
 * decrypting provider tokens (and the other way round). Rotating the token keys invalidates
 * outstanding links, which live 15 minutes anyway: the status route hands out a fresh one.
 */
import { base64url } from "../auth/secrets";
import type { Config } from "../config/config";

export const DOWNLOAD_URL_TTL_SECONDS = 15 * 60;
const HKDF_INFO = "pulse export download v1";
const encoder = new TextEncoder();
const keys = new WeakMap<Config, Promise<CryptoKey>>();

function downloadKey(config: Config): Promise<CryptoKey> {
  let key = keys.get(config);
  if (key === undefined) {
    key = deriveKey(config);
    keys.set(config, key);
  }
  return key;
}

async function deriveKey(config: Config): Promise<CryptoKey> {
  const [newest] = config.TOKEN_ENCRYPTION_KEYS;
  const material = newest?.slice(newest.indexOf(":") + 1);
  if (material === undefined) throw new Error("TOKEN_ENCRYPTION_KEYS lists no key");
  const raw = Uint8Array.from(atob(material), (char) => char.charCodeAt(0));
  const base = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(HKDF_INFO) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

function signedText(exportId: string, userId: string, expires: number): Uint8Array {
  return encoder.encode(`${exportId}\n${userId}\n${expires}`);
}

export async function signDownload(config: Config, exportId: string, userId: string, expires: number): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await downloadKey(config), signedText(exportId, userId, expires));
  return base64url(new Uint8Array(signature));
}

/** Whether `signature` is this export's and user's for `expires`; WebCrypto's verify compares in constant time. */
export async function verifyDownload(
  config: Config,
  link: { exportId: string; userId: string; expires: number; signature: string },
): Promise<boolean> {
  const bytes = fromBase64url(link.signature);
  if (bytes === null || bytes.byteLength !== 32) return false;
  return crypto.subtle.verify("HMAC", await downloadKey(config), bytes, signedText(link.exportId, link.userId, link.expires));
}

function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (char) => char.charCodeAt(0));
  } catch {
    return null;
  }
}

/** The path and query of a download link valid until `now + 15 min`. */
export async function downloadPath(config: Config, exportId: string, userId: string, now: number): Promise<string> {
  const expires = Math.floor(now / 1000) + DOWNLOAD_URL_TTL_SECONDS;
  const signature = await signDownload(config, exportId, userId, expires);
  return `/v1/exports/${exportId}/download?expires=${expires}&signature=${signature}`;
}
