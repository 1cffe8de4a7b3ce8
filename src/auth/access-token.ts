/**
 * Access tokens: ES256 JWTs, 15 minutes, `kid` header, `iss`/`aud` checked (DESIGN §4).
 * Verification pins the algorithm to ES256 (so `alg: none` and HS256-with-the-public-key are
 * refused), looks the key up by `kid` only among our own keys, and requires exp/iat.
 */
import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../config/config";
import { USER_ROLES } from "../db/schema/users";
import { signingKeys } from "./keys";

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const CLOCK_TOLERANCE_SECONDS = 30;

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

/** The claims of a valid token, or undefined for anything invalid (callers answer 401). */
export async function verifyAccessToken(config: Config, token: string, now = Date.now()): Promise<AccessClaims | undefined> {
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
