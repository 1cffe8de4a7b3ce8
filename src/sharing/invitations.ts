/**
 * A patient's invitations (DESIGN §8): create one (its code shown once), list them, cancel a
 * pending one. An invitation fixes everything the grant will be — role, categories, period of data,
 * end — so the person redeeming it chooses nothing; only who redeems it is open, bounded by role.
 *
 * The code is redeemable for 7 days, and never after the grant it creates would have ended: a grant
 * born expired would only confuse both sides.
 */
import { and, count, eq, gt, isNull, sql } from "drizzle-orm";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import { requireCurrentConsent } from "../consent/consents";
import type { Db } from "../db/client";
import { isConstraintViolation } from "../db/errors";
import { newId } from "../db/ids";
import { type GrantInvitationRow, grantInvitations } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { afterCursor, decodeKeyset, newestFirst, pageOf } from "../pagination/keyset";
import { canonicalInvitationCode, invitationCodeHash, newInvitationCode } from "./code";
import type { CreatedInvitation, CreateInvitationInput, InvitationView } from "./schema";

export const CODE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** A grant may last at most a year; the patient can invite again when it ends. */
export const MAX_GRANT_MS = 366 * 24 * 60 * 60 * 1000;
/** Pending invitations per patient: far more than anyone hands out at once, few enough to bound the table. */
export const MAX_PENDING_INVITATIONS = 50;

export type InvitationStatus = InvitationView["status"];

export function invitationStatus(row: GrantInvitationRow, now: number): InvitationStatus {
  if (row.redeemedAt) return "redeemed";
  if (row.revokedAt) return "cancelled";
  return redeemableUntil(row) > now ? "pending" : "expired";
}

/** The first instant the code no longer works. */
export function redeemableUntil(row: Pick<GrantInvitationRow, "codeExpiresAt" | "grantExpiresAt">): number {
  return Math.min(row.codeExpiresAt.getTime(), row.grantExpiresAt.getTime());
}

function invitationFields(row: GrantInvitationRow) {
  return {
    id: row.id,
    role: row.role,
    categories: row.categories,
    dataSince: row.dataSince?.toISOString() ?? null,
    dataUntil: row.dataUntil?.toISOString() ?? null,
    expiresAt: row.codeExpiresAt.toISOString(),
    grantExpiresAt: row.grantExpiresAt.toISOString(),
    note: row.note,
    createdAt: row.createdAt.toISOString(),
  };
}

export function invitationView(row: GrantInvitationRow, now: number): InvitationView {
  return {
    ...invitationFields(row),
    status: invitationStatus(row, now),
    redeemedAt: row.redeemedAt?.toISOString() ?? null,
    cancelledAt: row.revokedAt?.toISOString() ?? null,
  };
}

function pendingAt(now: Date) {
  return and(
    isNull(grantInvitations.redeemedAt),
    isNull(grantInvitations.revokedAt),
    gt(grantInvitations.codeExpiresAt, now),
    gt(grantInvitations.grantExpiresAt, now),
  );
}

export async function createInvitation(
  ctx: { db: Db },
  patientId: string,
  input: CreateInvitationInput,
  audit: AuditContext,
  now = new Date(),
): Promise<CreatedInvitation> {
  const grantExpiresAt = new Date(input.expiresAt);
  const errors = [];
  if (grantExpiresAt.getTime() <= now.getTime()) errors.push({ path: "expiresAt", message: "must be in the future" });
  if (grantExpiresAt.getTime() > now.getTime() + MAX_GRANT_MS)
    errors.push({ path: "expiresAt", message: "must be at most one year from now" });
  if (errors.length > 0) throw new DomainError("VALIDATION_FAILED", "The grant's end is not acceptable.", { errors });

  await requireCurrentConsent(ctx.db, patientId, "Sharing");

  const [pending] = await ctx.db
    .select({ n: count() })
    .from(grantInvitations)
    .where(and(eq(grantInvitations.patientId, patientId), pendingAt(now)));
  if ((pending?.n ?? 0) >= MAX_PENDING_INVITATIONS) {
    throw new DomainError(
      "CONFLICT",
      `At most ${MAX_PENDING_INVITATIONS} pending invitations; cancel some you no longer need, or let them expire.`,
    );
  }

  const code = newInvitationCode();
  const canonical = canonicalInvitationCode(code);
  if (canonical === undefined) throw new Error("a fresh invitation code does not parse");
  const row: GrantInvitationRow = {
    id: newId("inv"),
    patientId,
    role: input.role,
    categories: [...input.categories],
    dataSince: input.dataSince === undefined ? null : new Date(input.dataSince),
    dataUntil: input.dataUntil === undefined ? null : new Date(input.dataUntil),
    grantExpiresAt,
    note: input.note === undefined || input.note.length === 0 ? null : input.note,
    codeHash: await invitationCodeHash(canonical),
    codeExpiresAt: new Date(Math.min(now.getTime() + CODE_TTL_MS, grantExpiresAt.getTime())),
    createdAt: now,
    redeemedAt: null,
    revokedAt: null,
  };
  await appendSecurityEvent(
    ctx.db,
    { ...audit, action: "grant.invite", resource: `invitation:${row.id}`, subject: patientId, result: "success" },
    [ctx.db.insert(grantInvitations).values(row)],
  );
  return { ...invitationFields(row), code };
}

export async function listInvitations(
  ctx: { db: Db },
  patientId: string,
  page: { limit: number; cursor?: string | undefined },
  now = new Date(),
): Promise<{ items: InvitationView[]; nextCursor: string | null }> {
  const binding = { list: "grant-invitations" };
  const after = decodeKeyset(page.cursor, binding);
  const rows = await ctx.db
    .select()
    .from(grantInvitations)
    .where(and(eq(grantInvitations.patientId, patientId), afterCursor(grantInvitations, after)))
    .orderBy(...newestFirst(grantInvitations))
    .limit(page.limit + 1);
  const { rows: items, nextCursor } = pageOf(rows, page.limit, binding);
  return { items: items.map((row) => invitationView(row, now.getTime())), nextCursor };
}

/**
 * Cancels one of the patient's pending invitations. Anything else — another patient's, an unknown
 * id, one already redeemed, cancelled or expired — is 404: there is nothing pending to cancel.
 *
 * A redemption can race the cancellation. The update re-checks "still pending" inside the batch
 * and, when it no longer is, sets `code_hash` to NULL, which its NOT NULL constraint refuses: the
 * whole batch, audit event included, rolls back, so the log never records a cancellation that did
 * not happen (D1 has no other way to abort a batch on a condition).
 */
export async function cancelInvitation(
  ctx: { db: Db },
  patientId: string,
  invitationId: string,
  audit: AuditContext,
  now = new Date(),
): Promise<void> {
  const mine = and(eq(grantInvitations.id, invitationId), eq(grantInvitations.patientId, patientId));
  const [found] = await ctx.db
    .select({ id: grantInvitations.id })
    .from(grantInvitations)
    .where(and(mine, pendingAt(now)))
    .limit(1);
  if (!found) throw noPendingInvitation();
  const stillPending = sql`${grantInvitations.redeemedAt} IS NULL AND ${grantInvitations.revokedAt} IS NULL`;
  try {
    await appendSecurityEvent(
      ctx.db,
      {
        ...audit,
        action: "grant.invitation_cancel",
        resource: `invitation:${invitationId}`,
        subject: patientId,
        result: "success",
      },
      [
        ctx.db
          .update(grantInvitations)
          .set({
            revokedAt: now,
            codeHash: sql`CASE WHEN ${stillPending} THEN ${grantInvitations.codeHash} ELSE NULL END`,
          })
          .where(mine),
      ],
    );
  } catch (error) {
    if (isConstraintViolation(error, /grant_invitations\.code_hash/)) throw noPendingInvitation();
    throw error;
  }
}

function noPendingInvitation(): DomainError {
  return new DomainError("NOT_FOUND", "No pending invitation with this id.");
}
