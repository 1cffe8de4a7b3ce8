/**
 * Redeeming an invitation code (DESIGN §8): a signed-in user whose role is the invitation's turns
 * the code into a grant on the patient's data.
 *
 * No oracle: an unknown code, an expired, cancelled or already redeemed one, and one whose patient
 * no longer has current consent (or no longer exists) are the same 404 — someone holding a code
 * learns nothing about why it does not work, nor whether it ever did. Only a code that would
 * work answers differently: 403 naming the role it needs, 409 for the patient's own.
 *
 * Exactly one grant per code, however many redemptions race. In one `db.batch`:
 *  1. the invitation is marked redeemed — and the same UPDATE sets `code_hash` to NULL (refused by
 *     NOT NULL, so the batch rolls back) unless it was still pending;
 *  2. the grant is inserted with `invitation_id` read back from the invitation row this request
 *     just marked (NULL, refused, if another request marked it), and `grants.invitation_id` is
 *     unique besides.
 * Whatever the interleaving, the losers' batches fail whole, their audit events with them.
 *
 * The patient's HealthStore chain records the redemption too (`grant.redeem`), so the access log
 * they read shows who was given access. If that append fails, the grant is undone and the code
 * becomes redeemable again: nobody may hold access the patient cannot see.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import { hasCurrentConsent } from "../consent/consents";
import type { Db } from "../db/client";
import { isConstraintViolation } from "../db/errors";
import { newId } from "../db/ids";
import { type GrantRow, grantInvitations, grants, type UserRole, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { errorName, log } from "../observability/log";
import { canonicalInvitationCode, invitationCodeHash } from "./code";
import { granteeGrantView } from "./grant-lists";
import { redeemableUntil } from "./invitations";
import type { GranteeGrantView } from "./schema";

export interface SharingContext {
  db: Db;
  env: Pick<Env, "HEALTH_STORE">;
}

export interface Redeemer {
  userId: string;
  role: UserRole;
}

export async function redeemInvitation(
  ctx: SharingContext,
  redeemer: Redeemer,
  code: string,
  audit: AuditContext,
  now = new Date(),
): Promise<GranteeGrantView> {
  const canonical = canonicalInvitationCode(code);
  if (canonical === undefined) {
    throw new DomainError("VALIDATION_FAILED", "This is not a Pulse invitation code.", {
      errors: [{ path: "code", message: "expected 28 characters of the code (PLS-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX)" }],
    });
  }
  const [found] = await ctx.db
    .select({ invitation: grantInvitations, patientName: users.displayName, patientDeletedAt: users.deletedAt })
    .from(grantInvitations)
    .innerJoin(users, eq(users.id, grantInvitations.patientId))
    .where(eq(grantInvitations.codeHash, await invitationCodeHash(canonical)))
    .limit(1);
  const invitation = found?.invitation;
  if (
    !found ||
    !invitation ||
    found.patientDeletedAt !== null ||
    invitation.redeemedAt !== null ||
    invitation.revokedAt !== null ||
    redeemableUntil(invitation) <= now.getTime() ||
    !(await hasCurrentConsent(ctx.db, invitation.patientId))
  ) {
    throw unusableCode();
  }
  if (invitation.patientId === redeemer.userId) {
    throw new DomainError("CONFLICT", "This is your own invitation: give the code to the person you want to share with.");
  }
  if (invitation.role !== redeemer.role) {
    throw new DomainError("FORBIDDEN", `This invitation is for a ${invitation.role}; your account's role is ${redeemer.role}.`, {
      extensions: { requiredRole: invitation.role },
    });
  }

  const grant: GrantRow = {
    id: newId("grt"),
    invitationId: invitation.id,
    patientId: invitation.patientId,
    granteeId: redeemer.userId,
    role: invitation.role,
    categories: invitation.categories,
    dataSince: invitation.dataSince,
    dataUntil: invitation.dataUntil,
    expiresAt: invitation.grantExpiresAt,
    note: invitation.note,
    createdAt: now,
    revokedAt: null,
    lastAccessedAt: null,
  };
  const stillPending = sql`${grantInvitations.redeemedAt} IS NULL AND ${grantInvitations.revokedAt} IS NULL AND ${grantInvitations.codeExpiresAt} > ${now.getTime()} AND ${grantInvitations.grantExpiresAt} > ${now.getTime()}`;
  const markedByThisRequest = ctx.db
    .select({ id: grantInvitations.id })
    .from(grantInvitations)
    .where(and(eq(grantInvitations.id, invitation.id), eq(grantInvitations.redeemedAt, now)));
  try {
    await appendSecurityEvent(
      ctx.db,
      { ...audit, action: "grant.redeem", resource: `grant:${grant.id}`, subject: grant.patientId, result: "success" },
      [
        ctx.db
          .update(grantInvitations)
          .set({ redeemedAt: now, codeHash: sql`CASE WHEN ${stillPending} THEN ${grantInvitations.codeHash} ELSE NULL END` })
          .where(eq(grantInvitations.id, invitation.id)),
        ctx.db.insert(grants).values({ ...grant, invitationId: sql`(${markedByThisRequest})` }),
      ],
    );
  } catch (error) {
    if (isConstraintViolation(error, /grant_invitations\.code_hash|grants\.invitation_id/)) throw unusableCode();
    throw error;
  }

  try {
    await healthStoreFor(ctx.env.HEALTH_STORE, grant.patientId).appendAuditEvent(
      { action: "grant.redeem", resource: `grant:${grant.id}`, result: "success" },
      { ...audit, subject: grant.patientId },
    );
  } catch (error) {
    await undoRedemption(ctx.db, grant, audit);
    throw new DomainError("SERVICE_UNAVAILABLE", "The redemption could not be recorded; try again.", { cause: error });
  }
  return granteeGrantView(grant, { displayName: found.patientName }, now.getTime());
}

function unusableCode(): DomainError {
  return new DomainError("NOT_FOUND", "No invitation can be redeemed with this code.");
}

/** Removes a grant whose redemption the patient's chain did not record, and reopens its invitation. */
async function undoRedemption(db: Db, grant: GrantRow, audit: AuditContext): Promise<void> {
  try {
    await appendSecurityEvent(
      db,
      { ...audit, action: "grant.redeem", resource: `grant:${grant.id}`, subject: grant.patientId, result: "failure" },
      [
        db.delete(grants).where(and(eq(grants.id, grant.id), isNull(grants.lastAccessedAt))),
        db.update(grantInvitations).set({ redeemedAt: null }).where(eq(grantInvitations.id, grant.invitationId)),
      ],
    );
  } catch (error) {
    // The grant stands, recorded in the D1 chain; the operators' log says which one lacks its store event.
    log("error", "redemption not recorded in the patient's store, and not undone", {
      grantId: grant.id,
      error: errorName(error),
    });
  }
}
