/**
 * Role administration (DESIGN §4). Only admins reach these functions (requireAuth({ roles: ["admin"] })
 * on the routes). A role change and its `user.role_change` security event are one D1 batch.
 *
 * The system never loses its last admin. D1 has no interactive transactions, so the rule is checked
 * inside the batch that writes: when the update would demote the only remaining admin, the new role
 * evaluates to NULL, the NOT NULL constraint aborts the batch, and the audit event rolls back with
 * it. Two admins demoting each other at the same moment are serialized by D1's single writer, and
 * the second one fails. (If it ever happens anyway, scripts/grant-admin.mjs restores an admin.)
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import { forgetUserSessions } from "../auth/session-cache";
import { type PublicUser, publicUser } from "../auth/sessions";
import type { Db } from "../db/client";
import { isConstraintViolation } from "../db/errors";
import { type UserRole, type UserRow, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { afterCursor, decodeKeyset, newestFirst, pageOf } from "../pagination/keyset";

export async function changeUserRole(
  ctx: { db: Db },
  userId: string,
  change: { role: UserRole; reason?: string | undefined },
  audit: AuditContext,
): Promise<PublicUser> {
  const live = and(eq(users.id, userId), isNull(users.deletedAt));
  const [user] = await ctx.db.select().from(users).where(live).limit(1);
  if (!user) throw new DomainError("NOT_FOUND", "No such user.");
  if (user.role === change.role) return publicUser(user);

  const guardedRole = sql`CASE WHEN ${users.role} = 'admin' AND (
      SELECT count(*) FROM ${users} AS admins WHERE admins.role = 'admin' AND admins.deleted_at IS NULL
    ) <= 1 THEN NULL ELSE ${change.role} END`;
  const why = `role ${user.role} -> ${change.role}${change.reason ? `: ${change.reason}` : ""}`;
  try {
    const { results } = await appendSecurityEvent(
      ctx.db,
      { ...audit, reason: why, action: "user.role_change", resource: `user:${userId}`, subject: userId, result: "success" },
      [ctx.db.update(users).set({ role: guardedRole, updatedAt: new Date() }).where(live).returning()],
    );
    // Sessions carry the role they read from D1: the change applies to this isolate's at once.
    forgetUserSessions(userId);
    const [updated] = (results[0] ?? []) as UserRow[];
    if (!updated) throw new DomainError("NOT_FOUND", "No such user.");
    return publicUser(updated);
  } catch (error) {
    if (isConstraintViolation(error, /users\.role\b/)) {
      throw new DomainError("CONFLICT", "This is the last admin; make another user admin first.", { cause: error });
    }
    throw error;
  }
}

/** Live users, newest first. */
export async function listUsers(
  ctx: { db: Db },
  page: { limit: number; cursor?: string | undefined; role?: UserRole | undefined },
): Promise<{ items: PublicUser[]; nextCursor: string | null }> {
  const binding = { list: "users", filters: page.role ?? null };
  const after = decodeKeyset(page.cursor, binding);
  const rows = await ctx.db
    .select()
    .from(users)
    .where(and(isNull(users.deletedAt), page.role ? eq(users.role, page.role) : undefined, afterCursor(users, after)))
    .orderBy(...newestFirst(users))
    .limit(page.limit + 1);
  const { rows: items, nextCursor } = pageOf(rows, page.limit, binding);
  return { items: items.map(publicUser), nextCursor };
}
