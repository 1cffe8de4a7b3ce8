/**
 * Access tokens: ES256 JWTs, 15 minutes, `kid` header, `iss`/`aud` checked (DESIGN §4).
 * Verification pins the algorithm to ES256 (so `alg: none` and HS256-with-the-public-key are
 * refused), looks the key up by `kid` only among our own keys, and requires exp/iat.
 *
 * An ES256 verification is the largest CPU cost of an authenticated request, and a client sends
 * the same token for up to 15 minutes: a verified token's claims are kept in isolate memory, keyed
 * by the SHA-256 of the whole token (never the token itself), until the token expires or
 * TOKEN_CACHE_TTL_MS pass, whichever is first. Only successes are kept, so a forged or altered
 * token (a different hash) is always verified. Whether the session behind a token is still live is
 * not part of this cache: requireAuth() checks it on every request (./session-cache.ts).
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../config/config";
import { USER_ROLES } from "../db/schema/users";
import { ExpiringMap } from "./expiring-map";
import { signingKeys } from "./keys";

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const CLOCK_TOLERANCE_SECONDS = 30;
const TOKEN_CACHE_TTL_MS = 5 * 60 * 1000;
const MAX_CACHED_TOKENS = 10_000;

const claimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  role: z.enum(USER_ROLES),
  scope: z.string(),
  exp: z.number(),
  iat: z.number(),
});

export interface AccessClaims {
  userId: string;
  sessionId: string;
  role: (typeof USER_ROLES)[number];
  scopes: string[];
  expiresAt: number;
}

export async function issueAccessToken(
  config: Config,
  subject: { userId: string; sessionId: string; role: AccessClaims["role"]; scopes: string[] },
  now = Date.now(),
): Promise<string> {
  const { current } = await signingKeys(config);
  const issuedAt = Math.floor(now / 1000);
  return new SignJWT({ sid: subject.sessionId, role: subject.role, scope: subject.scopes.join(" ") })
    .setProtectedHeader({ alg: "ES256", kid: current.kid, typ: "at+jwt" })
    .setSubject(subject.userId)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + ACCESS_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(current.key);
}

// Per parsed configuration, like the keys: a test that builds its own issuer or keys gets its own.
const verified = new WeakMap<Config, ExpiringMap<string, AccessClaims>>();

/** The claims of a valid token, or undefined for anything invalid (callers answer 401). */
export async function verifyAccessToken(config: Config, token: string, now = Date.now()): Promise<AccessClaims | undefined> {
  // RFC 7515 §7.1: three unpadded base64url parts. Anything else (padding, spaces) is not a token we
  // issued, even if a lenient decoder would read the same bytes from it.
  if (!COMPACT_JWS.test(token)) return undefined;
  let cache = verified.get(config);
  if (cache === undefined) {
    cache = new ExpiringMap(MAX_CACHED_TOKENS);
    verified.set(config, cache);
  }
  const key = await tokenKey(token);
  const known = cache.get(key, now);
  if (known !== undefined) return known;
  const claims = await verifySignedToken(config, token, now);
  if (claims !== undefined) cache.set(key, claims, Math.min(claims.expiresAt * 1000, now + TOKEN_CACHE_TTL_MS), now);
  return claims;
}

const encoder = new TextEncoder();
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** SHA-256 of the whole token, base64 (cheaper to build than hex; only ever a map key). */
async function tokenKey(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(token)));
  return btoa(String.fromCharCode(...digest));
}

async function verifySignedToken(config: Config, token: string, now: number): Promise<AccessClaims | undefined> {
  const { byKid } = await signingKeys(config);
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = header.kid ? byKid.get(header.kid) : undefined;
        if (!key) throw new errors.JWKSNoMatchingKey();
        return key;
      },
      {
        algorithms: ["ES256"],
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        typ: "at+jwt",
        requiredClaims: ["exp", "iat", "sub"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
      },
    );
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) return undefined;
    return {
      userId: claims.data.sub,
      sessionId: claims.data.sid,
      role: claims.data.role,
      scopes: claims.data.scope.split(" ").filter(Boolean),
      expiresAt: claims.data.exp,
    };
  } catch {
    return undefined;
  }
}
