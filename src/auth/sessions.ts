/**
 * Sessions and refresh tokens (DESIGN §4). A session is one refresh-token family: every refresh
 * consumes the presented token and issues a new one; presenting a consumed token again means it
 * was stolen or replayed, so the whole session is revoked (OAuth 2.0 Security BCP §4.14).
 * Interactive sessions end 12 h after sign-in or after 30 min without activity (NIST SP 800-63B
 * AAL2 reauthentication); recovery sessions last 15 min and may only add a passkey.
 *
 * Activity lives in two places: D1's `last_seen_at` is the last token issuance (sign-in, refresh,
 * which write D1 anyway), and the requests in between are recorded in the user's AuthActivity
 * (./activity.ts). A refresh that D1 alone would call idle asks the AuthActivity for the later use.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent, type SecurityWrite } from "../audit/security-events";
import type { Config } from "../config/config";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { refreshTokens, type SessionKind, sessions, type UserRow, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from "./access-token";
import { recordedSessionUses } from "./activity";
import { formatOpaqueToken, parseOpaqueToken, randomSecret, secretMatches, sha256Hex } from "./secrets";
import { forgetSession } from "./session-cache";

export const SESSION_MAX_AGE_MS = 12 * 60 * 60 * 1000;
export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const RECOVERY_SESSION_MAX_AGE_MS = 15 * 60 * 1000;

/** What each kind of session may do. `user` is the full account; devices get `uploads:write` only. */
export const SESSION_SCOPES: Record<SessionKind, string[]> = {
  interactive: ["user", "uploads:write"],
  recovery: ["recovery"],
};

export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRow["role"];
  createdAt: string;
}

export function publicUser(user: UserRow): PublicUser {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
  };
}

export interface TokenBody {
  user: PublicUser;
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  sessionId: string;
}

interface AuthDeps {
  db: Db;
  config: Config;
}

/** A refresh also reads the recorded activity of the session. */
interface RefreshDeps extends AuthDeps {
  env: Pick<Env, "AUTH_ACTIVITY">;
}

async function newRefreshToken(db: Db, sessionId: string, now: Date): Promise<{ token: string; write: SecurityWrite }> {
  const id = newId("rtk");
  const secret = randomSecret();
  const write = db.insert(refreshTokens).values({ id, sessionId, secretHash: await sha256Hex(secret), createdAt: now });
  return { token: formatOpaqueToken({ id, secret }), write };
}

/**
 * The rows of a new session and its tokens, for the caller to write in the same batch as the
 * security event that records the sign-in.
 */
export async function prepareSession(
  deps: AuthDeps,
  user: UserRow,
  kind: SessionKind,
  userAgent: string | undefined,
  now = new Date(),
): Promise<{ writes: SecurityWrite[]; body: TokenBody }> {
  const sessionId = newId("ses");
  const maxAge = kind === "recovery" ? RECOVERY_SESSION_MAX_AGE_MS : SESSION_MAX_AGE_MS;
  const session = deps.db.insert(sessions).values({
    id: sessionId,
    userId: user.id,
    kind,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + maxAge),
    userAgent: userAgent?.slice(0, 256) ?? null,
  });
  const refresh = await newRefreshToken(deps.db, sessionId, now);
  const accessToken = await issueAccessToken(
    deps.config,
    { userId: user.id, sessionId, role: user.role, scopes: SESSION_SCOPES[kind] },
    now.getTime(),
  );
  return {
    writes: [session, refresh.write],
    body: {
      user: publicUser(user),
      accessToken,
      refreshToken: refresh.token,
      tokenType: "Bearer",
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
      sessionId,
    },
  };
}

export type SessionRow = typeof sessions.$inferSelect;

/** Why a session can no longer be used, or undefined while it is live. */
export function sessionEndReason(session: SessionRow, now: Date): string | undefined {
  if (session.revokedAt) return session.revokedReason ?? "revoked";
  if (now.getTime() >= session.expiresAt.getTime()) return "expired";
  if (now.getTime() - session.lastSeenAt.getTime() > SESSION_IDLE_MS) return "idle";
  return undefined;
}

const invalidRefresh = () =>
  new DomainError("UNAUTHENTICATED", "The refresh token is invalid, expired or revoked; sign in again.");

/**
 * The session with its true last use: D1's, or the later one its user's AuthActivity recorded.
 * The Durable Object is asked only when D1 alone says idle — a client refreshing as its token
 * expires (every 15 minutes) never is — so only a session that was left alone for a while pays it.
 */
export async function withRecordedUse(env: Pick<Env, "AUTH_ACTIVITY">, session: SessionRow, now: Date): Promise<SessionRow> {
  if (sessionEndReason(session, now) !== "idle") return session;
  const recorded = (await recordedSessionUses(env, session.userId, [session.id]))[session.id];
  return recorded !== undefined && recorded > session.lastSeenAt.getTime()
    ? { ...session, lastSeenAt: new Date(recorded) }
    : session;
}

/** Rotates a refresh token: a new access and refresh token, or 401 (and, on reuse, a revoked session). */
export async function refreshSession(
  deps: RefreshDeps,
  presented: string,
  audit: AuditContext,
  now = new Date(),
): Promise<TokenBody> {
  const parsed = parseOpaqueToken(presented, "rtk");
  if (!parsed) throw invalidRefresh();
  const [row] = await deps.db
    .select({ token: refreshTokens, session: sessions, user: users })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.id, parsed.id))
    .limit(1);
  if (!row || !(await secretMatches(parsed.secret, row.token.secretHash))) throw invalidRefresh();
  const { user } = row;
  if (user.deletedAt) throw invalidRefresh();

  const session = await withRecordedUse(deps.env, row.session, now);
  const ended = sessionEndReason(session, now);
  if (ended) {
    if (!session.revokedAt) await endSession(deps.db, session, ended, now);
    throw invalidRefresh();
  }
  if (row.token.usedAt) {
    await revokeForReuse(deps.db, session, audit, now);
    throw invalidRefresh();
  }

  // Claim the token with one conditional UPDATE: of two concurrent refreshes exactly one wins;
  // the other sees a consumed token, which is reuse.
  const claimed = await deps.db
    .update(refreshTokens)
    .set({ usedAt: now })
    .where(and(eq(refreshTokens.id, parsed.id), isNull(refreshTokens.usedAt)))
    .returning({ id: refreshTokens.id });
  if (claimed.length === 0) {
    await revokeForReuse(deps.db, session, audit, now);
    throw invalidRefresh();
  }

  const next = await newRefreshToken(deps.db, session.id, now);
  await deps.db.batch([next.write, deps.db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, session.id))]);
  const accessToken = await issueAccessToken(
    deps.config,
    { userId: user.id, sessionId: session.id, role: user.role, scopes: SESSION_SCOPES[session.kind] },
    now.getTime(),
  );
  return {
    user: publicUser(user),
    accessToken,
    refreshToken: next.token,
    tokenType: "Bearer",
    expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    sessionId: session.id,
  };
}

/** Ends a session found expired or idle, keeping its last recorded use in D1 for the history. */
async function endSession(db: Db, session: SessionRow, reason: string, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason, lastSeenAt: session.lastSeenAt })
    .where(and(eq(sessions.id, session.id), isNull(sessions.revokedAt)));
  forgetSession(session.id);
}

async function revokeForReuse(db: Db, session: SessionRow, audit: AuditContext, now: Date): Promise<void> {
  await appendSecurityEvent(
    db,
    { ...audit, action: "refresh_token.reuse", resource: `session:${session.id}`, subject: session.userId, result: "denied" },
    [
      db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: "refresh_token_reuse" })
        .where(and(eq(sessions.id, session.id), isNull(sessions.revokedAt))),
    ],
  );
  forgetSession(session.id);
}
