/**
 * DPoP proof verification, RFC 9449 §4.3. A proof is a JWT the device signs for each request with
 * the key its credential is bound to; the checks below are the section's list, in its order, with
 * two choices of ours:
 *  - only ES256 (P-256) keys and proofs, the one algorithm devices register with (§5.1 lets a
 *    server restrict algorithms; it advertises them in `algs` of WWW-Authenticate, §7.1);
 *  - `iat` may differ from the server clock by at most 60 s either way (§11.1): enough for a phone
 *    whose clock drifts, short enough that the `jti` store (authenticate.ts) stays small. No
 *    server nonces (§8): the short window plus `jti` replay detection is the replay defence.
 * The `jti` check needs storage and lives with the caller; this module is pure.
 */
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { z } from "zod";
import { base64url, timingSafeEqualText } from "../secrets";
import { PublicJwkSchema } from "./schema";

export const DPOP_ALGORITHM = "ES256";
export const DPOP_IAT_WINDOW_SECONDS = 60;
const MAX_PROOF_LENGTH = 4096;

const headerSchema = z.object({
  typ: z.literal("dpop+jwt"),
  alg: z.literal(DPOP_ALGORITHM),
  jwk: PublicJwkSchema,
});

const claimsSchema = z.object({
  jti: z.string().min(1).max(256),
  htm: z.string().min(1),
  htu: z.string().min(1).max(2048),
  iat: z.number().int(),
  // §4.2: required when the proof accompanies an access token, which is always the case here.
  ath: z.string().min(1),
});

export interface DpopRequest {
  method: string;
  url: string;
  /** The credential sent in `Authorization: DPoP …`, hashed into `ath`. */
  accessToken: string;
  /** The thumbprint the credential is bound to. */
  jkt: string;
  now: number;
}

/** Why a proof was refused: safe to log (no token or key material). */
export type DpopFailure =
  | "missing"
  | "malformed"
  | "header"
  | "key_mismatch"
  | "signature"
  | "claims"
  | "method"
  | "url"
  | "iat"
  | "ath";

export type DpopResult = { ok: true; jti: string; iat: number } | { ok: false; failure: DpopFailure };

const fail = (failure: DpopFailure): DpopResult => ({ ok: false, failure });

export async function verifyDpopProof(proof: string | undefined, request: DpopRequest): Promise<DpopResult> {
  // §4.3 checks 1-2: exactly one header holding one JWT. Repeated headers arrive joined by ", ",
  // and a compact JWS never contains a comma or a space.
  if (proof === undefined || proof === "") return fail("missing");
  if (proof.length > MAX_PROOF_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof))
    return fail("malformed");

  let rawHeader: unknown;
  try {
    rawHeader = decodeProtectedHeader(proof);
  } catch {
    return fail("malformed");
  }
  // Checks 4, 5 and 7: typ, an asymmetric algorithm we support, a public key with no private part.
  const header = headerSchema.safeParse(rawHeader);
  if (!header.success) return fail("header");
  const { kty, crv, x, y } = header.data.jwk;
  const publicJwk = { kty, crv, x, y };
  // Check 12 (second half): the proof key is the key the credential is bound to.
  if (!timingSafeEqualText(await calculateJwkThumbprint(publicJwk, "sha256"), request.jkt)) return fail("key_mismatch");

  // Check 6: the signature, with the embedded key, ES256 only.
  let payload: unknown;
  try {
    const key = await importJWK(publicJwk, DPOP_ALGORITHM);
    ({ payload } = await jwtVerify(proof, key, {
      algorithms: [DPOP_ALGORITHM],
      typ: "dpop+jwt",
      currentDate: new Date(request.now),
    }));
  } catch {
    return fail("signature");
  }
  // Check 3: every required claim present and well-typed.
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) return fail("claims");
  const { jti, htm, htu, iat, ath } = claims.data;

  // Check 8: method, case-sensitive (RFC 9110 §9.1).
  if (htm !== request.method) return fail("method");
  // Check 9: URI without query and fragment, after syntax- and scheme-based normalization.
  if (!sameTargetUri(htu, request.url)) return fail("url");
  // Check 11: creation time within the window.
  if (Math.abs(request.now / 1000 - iat) > DPOP_IAT_WINDOW_SECONDS) return fail("iat");
  // Check 12 (first half): ath = base64url(SHA-256(ASCII access token)), §4.2.
  if (!timingSafeEqualText(ath, await accessTokenHash(request.accessToken))) return fail("ath");
  return { ok: true, jti, iat };
}

export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url(new Uint8Array(digest));
}

/**
 * RFC 9449 §4.3 check 9 with RFC 3986 §6.2.2-6.2.3 normalization, as the WHATWG URL parser applies
 * it: scheme and host lowercased, default ports dropped, dot segments removed, an empty path as "/".
 * Query and fragment are ignored on both sides.
 */
export function sameTargetUri(htu: string, requestUrl: string): boolean {
  if (!URL.canParse(htu) || !URL.canParse(requestUrl)) return false;
  const claimed = new URL(htu);
  const actual = new URL(requestUrl);
  if (claimed.protocol !== "https:" && claimed.protocol !== "http:") return false;
  if (claimed.username !== "" || claimed.password !== "") return false;
  return claimed.protocol === actual.protocol && claimed.host === actual.host && claimed.pathname === actual.pathname;
}
