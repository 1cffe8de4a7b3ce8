/**
 * The pseudonym an erased account keeps in the audit trail (DESIGN §8): `psn_` + hex
 * HMAC-SHA-256(AUDIT_PSEUDONYM_KEY, userId). Stable, so the deletion record and the chain's last
 * event about the account name the same pseudonym; keyed, so nobody without the secret can link a
 * known user id to it (a plain hash of a random id could still be confirmed by whoever kept the id).
 */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(base64Key: string): Promise<CryptoKey> {
  let key = keys.get(base64Key);
  if (key === undefined) {
    const raw = Uint8Array.from(atob(base64Key), (char) => char.charCodeAt(0));
    key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(base64Key, key);
  }
  return key;
}

export async function pseudonymOf(base64Key: string, userId: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(base64Key), new TextEncoder().encode(userId));
  return `psn_${Array.from(new Uint8Array(mac), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
