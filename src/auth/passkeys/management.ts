/**
 * A user's own passkeys (`/v1/me/passkeys`): list, rename, remove. Every query filters by the
 * owner, so another user's passkey id is simply not found (404). A passkey is never removed when it
 * is the account's last way in: the last passkey goes only while unused recovery codes remain.
 */
import { and, asc, count, eq, exists, ne, or } from "drizzle-orm";
import type { AuditContext } from "../../audit/event";
import { appendSecurityEvent } from "../../audit/security-events";
import type { Db } from "../../db/client";
import { passkeys, recoveryCodes } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { unusedCodesOf, unusedRecoveryCodeCount } from "../recovery/codes";
import { type PasskeyRow, type PasskeyView, passkeyView } from "./views";

/** Enough for every device a person owns; it bounds the list, which is therefore never paged. */
export const MAX_PASSKEYS_PER_USER = 20;

const notFound = () => new DomainError("NOT_FOUND", "No such passkey.");

export async function listPasskeys(db: Db, userId: string): Promise<PasskeyView[]> {
  const rows = await db.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt));
  return rows.map(passkeyView);
}

export async function passkeyCount(db: Db, userId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(passkeys).where(eq(passkeys.userId, userId));
  return row?.n ?? 0;
}

export async function renamePasskey(
  db: Db,
  userId: string,
  passkeyId: string,
  name: string,
  audit: AuditContext,
): Promise<PasskeyView> {
  const mine = and(eq(passkeys.id, passkeyId), eq(passkeys.userId, userId));
  const [found] = await db.select({ id: passkeys.id }).from(passkeys).where(mine).limit(1);
  if (!found) throw notFound();
  const { results } = await appendSecurityEvent(
    db,
    { ...audit, action: "passkey.rename", resource: `passkey:${passkeyId}`, subject: userId, result: "success" },
    [db.update(passkeys).set({ name }).where(mine).returning()],
  );
  const [row] = (results[0] ?? []) as PasskeyRow[];
  if (!row) throw notFound();
  return passkeyView(row);
}

export async function removePasskey(db: Db, userId: string, passkeyId: string, audit: AuditContext): Promise<void> {
  const mine = and(eq(passkeys.id, passkeyId), eq(passkeys.userId, userId));
  const [found] = await db.select({ id: passkeys.id }).from(passkeys).where(mine).limit(1);
  if (!found) throw notFound();
  const others = await db
    .select({ n: count() })
    .from(passkeys)
    .where(and(eq(passkeys.userId, userId), ne(passkeys.id, passkeyId)));
  if ((others[0]?.n ?? 0) === 0 && (await unusedRecoveryCodeCount(db, userId)) === 0) throw lastWayIn();

  // The same rule again inside the DELETE: two concurrent removals of an account's last two
  // passkeys cannot both pass it, whatever the reads above saw.
  const keepsAWayIn = or(
    exists(
      db
        .select({ id: passkeys.id })
        .from(passkeys)
        .where(and(eq(passkeys.userId, userId), ne(passkeys.id, passkeyId))),
    ),
    exists(db.select({ id: recoveryCodes.id }).from(recoveryCodes).where(unusedCodesOf(userId))),
  );
  const { results } = await appendSecurityEvent(
    db,
    { ...audit, action: "passkey.remove", resource: `passkey:${passkeyId}`, subject: userId, result: "success" },
    [db.delete(passkeys).where(and(mine, keepsAWayIn)).returning({ id: passkeys.id })],
  );
  // Only a lost race gets here: the passkey stays, as the rule requires, though the event above
  // was chained already (the appender records one unconditional event per batch).
  if (((results[0] ?? []) as unknown[]).length === 0) throw lastWayIn();
}

function lastWayIn(): DomainError {
  return new DomainError(
    "CONFLICT",
    "This is your last passkey and you have no unused recovery codes: add another passkey or create new recovery codes first.",
  );
}
