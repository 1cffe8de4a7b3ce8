import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import { verifySecurityAudit } from "../audit/seal/security";
import type { AuditVerificationReport } from "../audit/seal/verify";
import { appendSecurityEvent } from "../audit/security-events";
import type { Db } from "../db/client";
import { DomainError } from "../errors/domain-error";
import { findUser } from "../users/users";

/**
 * An auditor's verification of a sealed chain (docs/audit.md, "Verification"): one user's
 * HealthStore chain, or the D1 security chain when no user is named. The report is the answer
 * either way; a broken chain is what the auditor came to find out, not an error. Every
 * verification is itself recorded in the security chain (`audit.verify`).
 */
const USER_ID = /^usr_[a-z2-7]{26}$/;

interface VerifyEnv {
  DB: D1Database;
  LAKE: R2Bucket;
  HEALTH_STORE: DurableObjectNamespace<HealthStore>;
}

export async function verifyUserAudit(env: VerifyEnv, userId: string): Promise<AuditVerificationReport> {
  return healthStoreFor(env.HEALTH_STORE, userId).verifySealedAudit(userId);
}

export { verifySecurityAudit };

export async function verifyAuditChain(
  ctx: { db: Db; env: VerifyEnv },
  userId: string | undefined,
  actor: AuditContext,
): Promise<AuditVerificationReport> {
  if (userId !== undefined) {
    // Only a user who exists has a store: never create a Durable Object for a made-up id.
    if (!USER_ID.test(userId) || (await findUser(ctx, userId)) === undefined) {
      throw new DomainError("NOT_FOUND", "No user with this id.");
    }
  }
  const report = userId === undefined ? await verifySecurityAudit(ctx.env) : await verifyUserAudit(ctx.env, userId);
  await appendSecurityEvent(ctx.db, {
    ...actor,
    action: "audit.verify",
    resource: userId === undefined ? "audit:security" : `audit:user:${userId}`,
    subject: userId ?? null,
    result: "success",
  });
  return report;
}
