/**
 * ES256 signing keys for access tokens (DESIGN §4). `JWT_SIGNING_KEYS` lists private JWKs newest
 * first: the first signs, every key verifies and is published at /.well-known/jwks.json, so a
 * rotation (scripts/rotate-signing-key.mjs) logs nobody out. Keys are imported once per isolate.
 */
import { importJWK, type JWK } from "jose";
import type { Config } from "../config/config";

export interface PublicJwk {
  kid: string;
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  alg: "ES256";
  use: "sig";
}

export interface SigningKeys {
  current: { kid: string; key: CryptoKey };
  byKid: ReadonlyMap<string, CryptoKey>;
  jwks: { keys: PublicJwk[] };
}

const cache = new WeakMap<Config, Promise<SigningKeys>>();

export function signingKeys(config: Config): Promise<SigningKeys> {
  let keys = cache.get(config);
  if (!keys) {
    keys = loadKeys(config);
    cache.set(config, keys);
  }
  return keys;
}

async function loadKeys(config: Config): Promise<SigningKeys> {
  const byKid = new Map<string, CryptoKey>();
  const publicKeys: PublicJwk[] = [];
  for (const jwk of config.JWT_SIGNING_KEYS) {
    const publicJwk: PublicJwk = { kid: jwk.kid, kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, alg: "ES256", use: "sig" };
    byKid.set(jwk.kid, (await importJWK(publicJwk as JWK, "ES256")) as CryptoKey);
    publicKeys.push(publicJwk);
  }
  const [first] = config.JWT_SIGNING_KEYS;
  if (!first) throw new Error("JWT_SIGNING_KEYS is empty");
  const signer = (await importJWK({ ...first, alg: "ES256" } as JWK, "ES256")) as CryptoKey;
  return { current: { kid: first.kid, key: signer }, byKid, jwks: { keys: publicKeys } };
}
