/** Listing and revoking a user's own sessions (`/v1/me/sessions`, logout). */
import { and, eq, isNull } from "drizzle-orm";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import type { Db } from "../db/client";
import { sessions } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { afterCursor, decodeKeyset, newestFirst, pageOf } from "../pagination/keyset";
import { recordedSessionUses } from "./activity";
import { revokeAllDevicesWrite } from "./devices/devices";
import { forgetSession, forgetUserSessions } from "./session-cache";
import { sessionEndReason } from "./sessions";

export interface SessionView {
  id: string;
  kind: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  current: boolean;
}

/**
 * The user's live sessions, newest first, cursor-paginated by (creation time, id), each with its
 * true last use: the later of D1's (the last token issuance) and the one its AuthActivity recorded.
 */
export async function listSessions(
  ctx: { db: Db; env: Pick<Env, "AUTH_ACTIVITY"> },
  userId: string,
  currentSessionId: string | undefined,
  page: { limit: number; cursor?: string | undefined },
  now = new Date(),
): Promise<{ items: SessionView[]; nextCursor: string | null }> {
  const binding = { list: "sessions" };
  const after = decodeKeyset(page.cursor, binding);
  const rows = await ctx.db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), afterCursor(sessions, after)))
    .orderBy(...newestFirst(sessions))
    .limit(page.limit + 1);
  const { rows: unrevoked, nextCursor } = pageOf(rows, page.limit, binding);
  // Past their 12 hours nothing recorded can bring them back: only the others are asked about.
  const unexpired = unrevoked.filter((row) => sessionEndReason(row, now) !== "expired");
  const recorded = await recordedSessionUses(
    ctx.env,
    userId,
    unexpired.map((row) => row.id),
  );
  const items = unexpired
    .map((row) => {
      const used = recorded[row.id];
      return used !== undefined && used > row.lastSeenAt.getTime() ? { ...row, lastSeenAt: new Date(used) } : row;
    })
    .filter((row) => sessionEndReason(row, now) === undefined)
    .map((row) => ({
      id: row.id,
      kind: row.kind,
      createdAt: row.createdAt.toISOString(),
      lastSeenAt: row.lastSeenAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      userAgent: row.userAgent,
      current: row.id === currentSessionId,
    }));
  return { items, nextCursor };
}

/** Revokes one of the user's sessions; another user's session id is simply not found (404). */
export async function revokeSession(db: Db, userId: string, sessionId: string, audit: AuditContext): Promise<void> {
  const mine = and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt));
  const [found] = await db.select({ id: sessions.id }).from(sessions).where(mine).limit(1);
  if (!found) throw new DomainError("NOT_FOUND", "No such session.");
  await appendSecurityEvent(
    db,
    { ...audit, action: "session.revoke", resource: `session:${sessionId}`, subject: userId, result: "success" },
    [db.update(sessions).set({ revokedAt: new Date(), revokedReason: "revoked" }).where(mine)],
  );
  forgetSession(sessionId);
}

export interface RevokeAllResult {
  /** Sessions ended, the caller's own included. */
  revoked: number;
  /** Device credentials revoked (0 when they were kept). */
  devicesRevoked: number;
}

/**
 * Sign out everywhere: revokes every live session of the user and, unless `keepDevices`, every
 * device credential too. Someone who lost a phone expects its background uploader to stop as well;
 * a device credential is not a session, so keeping them has to be asked for. One D1 batch with its
 * audit event (`session.revoke_all`, or `credentials.revoke_all` when devices go too).
 */
export async function revokeAllSessions(
  db: Db,
  userId: string,
  audit: AuditContext,
  options: { keepDevices?: boolean } = {},
): Promise<RevokeAllResult> {
  const now = new Date();
  const revokeSessions = db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: "revoked_all" })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  const keepDevices = options.keepDevices ?? false;
  const { results } = await appendSecurityEvent(
    db,
    {
      ...audit,
      action: keepDevices ? "session.revoke_all" : "credentials.revoke_all",
      resource: `user:${userId}`,
      subject: userId,
      result: "success",
    },
    keepDevices ? [revokeSessions] : [revokeSessions, revokeAllDevicesWrite(db, userId, now)],
  );
  forgetUserSessions(userId);
  return { revoked: rowCount(results[0]), devicesRevoked: rowCount(results[1]) };
}

function rowCount(result: unknown): number {
  return Array.isArray(result) ? result.length : 0;
}
