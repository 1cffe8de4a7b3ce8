import { type JWK, SignJWT } from "jose";
import { base64url } from "../../../src/auth/secrets";

/**
 * A software device for DPoP tests (RFC 9449): an ES256 key pair, and proofs signed with it. Every
 * proof has a fresh `jti` unless the test pins one; `claims` and `header` let a test break exactly
 * one thing.
 */
export interface DeviceKey {
  privateKey: CryptoKey;
  publicJwk: { kty: "EC"; crv: "P-256"; x: string; y: string };
}

export async function generateDeviceKey(): Promise<DeviceKey> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  if (!jwk.x || !jwk.y) throw new Error("exported key has no coordinates");
  return { privateKey: pair.privateKey, publicJwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } };
}

export interface ProofOptions {
  method: string;
  url: string;
  /** The credential the proof accompanies (hashed into `ath`); omit to leave `ath` out. */
  credential?: string;
  /** Seconds since the epoch; now by default. */
  iat?: number;
  /** A fixed `jti`, or null to leave it out; a fresh UUID by default. */
  jti?: string | null;
  /** Claims merged over the computed ones (e.g. a wrong `ath`). */
  claims?: Record<string, unknown>;
  /** Header members merged over `{typ, alg, jwk}`. */
  header?: Record<string, unknown>;
  /** Sign with another key than the one whose `jwk` the header carries. */
  signWith?: CryptoKey;
}

export async function dpopProof(key: DeviceKey, options: ProofOptions): Promise<string> {
  const ath = options.credential === undefined ? {} : { ath: await sha256Base64url(options.credential) };
  const jti = options.jti === null ? {} : { jti: options.jti ?? crypto.randomUUID() };
  return new SignJWT({ htm: options.method, htu: options.url, ...ath, ...jti, ...options.claims })
    .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: key.publicJwk as JWK, ...options.header })
    .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
    .sign(options.signWith ?? key.privateKey);
}

/** `Authorization` and `DPoP` headers for one request with a device credential. */
export async function dpopHeaders(
  key: DeviceKey,
  credential: string,
  method: string,
  url: string,
): Promise<Record<string, string>> {
  return { Authorization: `DPoP ${credential}`, DPoP: await dpopProof(key, { method, url, credential }) };
}

export async function sha256Base64url(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}
