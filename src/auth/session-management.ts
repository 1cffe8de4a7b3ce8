/** Listing and revoking a user's own sessions (`/v1/me/sessions`, logout). */
import { and, desc, eq, isNull, lt } from "drizzle-orm";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import type { Db } from "../db/client";
import { sessions } from "../db/schema";
import { AppError } from "../http/errors";
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

/** The user's live sessions, newest first, cursor-paginated by creation time. */
export async function listSessions(
  db: Db,
  userId: string,
  currentSessionId: string | undefined,
  page: { limit: number; before?: number },
  now = new Date(),
): Promise<{ items: SessionView[]; nextCursor: string | null }> {
  const rows = await db
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        page.before ? lt(sessions.createdAt, new Date(page.before)) : undefined,
      ),
    )
    .orderBy(desc(sessions.createdAt))
    .limit(page.limit + 1);
  const live = rows.slice(0, page.limit);
  const items = live
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
  const last = live.at(-1);
  return { items, nextCursor: rows.length > page.limit && last ? String(last.createdAt.getTime()) : null };
}

/** Revokes one of the user's sessions; another user's session id is simply not found (404). */
export async function revokeSession(db: Db, userId: string, sessionId: string, audit: AuditContext): Promise<void> {
  const mine = and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt));
  const [found] = await db.select({ id: sessions.id }).from(sessions).where(mine).limit(1);
  if (!found) throw new AppError("NOT_FOUND", "No such session.");
  await appendSecurityEvent(
    db,
    { ...audit, action: "session.revoke", resource: `session:${sessionId}`, subject: userId, result: "success" },
    [db.update(sessions).set({ revokedAt: new Date(), revokedReason: "revoked" }).where(mine)],
  );
  forgetSession(sessionId);
}

/** Revokes every live session of the user (sign out everywhere). */
export async function revokeAllSessions(db: Db, userId: string, audit: AuditContext): Promise<number> {
  const { results } = await appendSecurityEvent(
    db,
    { ...audit, action: "session.revoke_all", resource: `user:${userId}`, subject: userId, result: "success" },
    [
      db
        .update(sessions)
        .set({ revokedAt: new Date(), revokedReason: "revoked_all" })
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id }),
    ],
  );
  forgetUserSessions(userId);
  const updated = results[0];
  return Array.isArray(updated) ? updated.length : 0;
}
