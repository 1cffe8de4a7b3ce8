/**
 * Authentication and authorization for routes (DESIGN §4). `requireAuth()` accepts
 *  - `Authorization: Bearer <access JWT>`: verified (src/auth/access-token.ts), then its session is
 *    looked up so a revoked, expired or idle session stops working, and the role is read from the
 *    user row (a role change applies without waiting for tokens to expire). The lookup goes through
 *    an isolate cache (./session-cache.ts): a change made in this isolate applies at once, one made
 *    elsewhere within 5 s. The request's use of the session is recorded in the user's AuthActivity
 *    (./activity.ts), never in D1: an ordinary authenticated read writes nothing to D1;
 *  - `Authorization: DPoP <device credential>` with a `DPoP` proof header: a device credential,
 *    only where the route's scope allows devices (src/auth/devices/authenticate.ts).
 * Failures are 401 with `WWW-Authenticate`; a missing scope or role is 403.
 */
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type Db, getDb } from "../db/client";
import { sessions, type UserRole, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { HttpError } from "../http/errors";
import type { AppEnv, AuthContext } from "../http/types";
import { verifyAccessToken } from "./access-token";
import { recordSessionUse } from "./activity";
import { authenticateDevice } from "./devices/authenticate";
import { type SessionState, sessionState } from "./session-cache";
import { SESSION_IDLE_MS, sessionEndReason } from "./sessions";

export interface RequireAuthOptions {
  /** The scope the route needs (any one of a list); `user` (the full account) by default. */
  scope?: string | readonly string[];
  /** Roles allowed on the route; any role by default. */
  roles?: readonly UserRole[];
}

function unauthenticated(detail: string, scheme = "Bearer"): DomainError {
  return new HttpError("UNAUTHENTICATED", detail, {
    headers: { "WWW-Authenticate": `${scheme} realm="pulse", error="invalid_token"` },
  });
}

export function requireAuth(options: RequireAuthOptions = {}) {
  const accepted: readonly string[] = typeof options.scope === "string" ? [options.scope] : (options.scope ?? ["user"]);
  return createMiddleware<AppEnv>(async (c, next) => {
    const auth = await authenticate(c);
    if (!accepted.some((scope) => auth.scopes.includes(scope))) {
      throw new DomainError("FORBIDDEN", `This credential does not have the ${accepted.join(" or ")} scope.`);
    }
    if (options.roles && !options.roles.includes(auth.role)) {
      throw new DomainError("FORBIDDEN", "Your role does not allow this.");
    }
    c.set("auth", auth);
    c.set("userId", auth.userId);
    await next();
  });
}

async function authenticate(c: Context<AppEnv>): Promise<AuthContext> {
  const header = c.req.header("Authorization");
  if (!header) throw unauthenticated("Sign in: send Authorization: Bearer <access token>.");
  const [scheme, credential, ...rest] = header.split(" ");
  if (!credential || rest.length > 0) throw unauthenticated("Malformed Authorization header.");
  if (scheme?.toLowerCase() === "dpop") return authenticateDevice(c, credential);
  if (scheme?.toLowerCase() !== "bearer") throw unauthenticated("Unsupported authorization scheme.");
  return authenticateSession(c, credential);
}

async function authenticateSession(c: Context<AppEnv>, token: string): Promise<AuthContext> {
  const now = new Date();
  const claims = await verifyAccessToken(c.var.config, token, now.getTime());
  if (!claims) throw unauthenticated("The access token is invalid or expired.");
  // The drizzle client is built only when D1 is needed: building it is not free (it walks the schema).
  const state = await sessionState(claims.sessionId, now.getTime(), () => readSessionState(getDb(c.env.DB), claims.sessionId));
  if (!state || state.session.userId !== claims.userId || state.userDeleted || sessionEndReason(state.session, now)) {
    throw unauthenticated("The session has ended; sign in again.");
  }
  const { session } = state;
  // No Durable Object read here. D1's `last_seen_at` is the session's last token issuance, so for
  // a valid token it is at most a token's 15 minutes (plus the cache's 5 s) old and the idle rule
  // cannot bite on this path; it bites at refresh (./sessions.ts), the only way past those
  // 15 minutes, which reads the recorded uses.
  const at = now.getTime();
  recordSessionUse(c.env, (work) => c.executionCtx.waitUntil(work), {
    sessionId: session.id,
    userId: session.userId,
    lastSeenAt: session.lastSeenAt,
    at,
    forgetAt: at + SESSION_IDLE_MS,
  });
  return { userId: claims.userId, role: state.role, kind: "session", sessionId: session.id, scopes: [...claims.scopes] };
}

async function readSessionState(db: Db, sessionId: string): Promise<SessionState | undefined> {
  const [row] = await db
    .select({ session: sessions, role: users.role, deletedAt: users.deletedAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sessionId))
    .limit(1);
  return row && { session: row.session, role: row.role, userDeleted: row.deletedAt !== null };
}

/** The authenticated caller; only valid behind `requireAuth()`. */
export function authOf(c: Context<AppEnv>): AuthContext {
  const auth = c.get("auth");
  if (!auth) throw new DomainError("UNAUTHENTICATED", "Sign in first.");
  return auth;
}
