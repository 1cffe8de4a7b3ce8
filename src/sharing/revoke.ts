/**
 * Revoking a grant (DESIGN §8). It takes effect on the grantee's very next request: grantee routes
 * read D1 through `activeGrantsFor` (./grant-access.ts) on every request, with no cache in between.
 *
 * Revoking is answered once: a second revocation of the same grant, like another patient's or an
 * unknown id, is 404 (there is no active-or-expired, unrevoked grant of yours with that id). Two
 * racing revocations record one event: the UPDATE sets `invitation_id` to NULL, refused by NOT
 * NULL and rolling back the batch with its audit event, when the grant was already revoked.
 *
 * The patient's HealthStore chain records it too (`grant.revoke`), for their access log. A failed
 * append never undoes a revocation — losing access must not depend on the store being reachable —
 * it is retried once and otherwise logged; the D1 security chain has the event either way.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import { appendSecurityEvent } from "../audit/security-events";
import { isConstraintViolation } from "../db/errors";
import { grants } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { errorName, log } from "../observability/log";
import type { SharingContext } from "./redeem";

export async function revokeGrant(
  ctx: SharingContext,
  patientId: string,
  grantId: string,
  audit: AuditContext,
  now = new Date(),
): Promise<void> {
  const mine = and(eq(grants.id, grantId), eq(grants.patientId, patientId));
  const [found] = await ctx.db
    .select({ id: grants.id })
    .from(grants)
    .where(and(mine, isNull(grants.revokedAt)))
    .limit(1);
  if (!found) throw noSuchGrant();
  try {
    await appendSecurityEvent(
      ctx.db,
      { ...audit, action: "grant.revoke", resource: `grant:${grantId}`, subject: patientId, result: "success" },
      [
        ctx.db
          .update(grants)
          .set({
            revokedAt: now,
            invitationId: sql`CASE WHEN ${grants.revokedAt} IS NULL THEN ${grants.invitationId} ELSE NULL END`,
          })
          .where(mine),
      ],
    );
  } catch (error) {
    if (isConstraintViolation(error, /grants\.invitation_id/)) throw noSuchGrant();
    throw error;
  }

  const store = healthStoreFor(ctx.env.HEALTH_STORE, patientId);
  const event = { action: "grant.revoke", resource: `grant:${grantId}`, result: "success" } as const;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      await store.appendAuditEvent(event, { ...audit, subject: patientId });
      return;
    } catch (error) {
      if (attempt === 2)
        log("error", "grant revocation not recorded in the patient's store", { grantId, error: errorName(error) });
    }
  }
}

function noSuchGrant(): DomainError {
  return new DomainError("NOT_FOUND", "No unrevoked grant of yours has this id.");
}
