/**
 * Asking for the account to be deleted (DESIGN §8). A bearer token alone never deletes an account:
 * a stolen access token would otherwise erase a person's records for good. The signed-in user
 * proves presence again with a fresh passkey assertion (user verification required) for a
 * challenge bound to this ceremony and to them, single-use and 5 minutes old at most.
 *
 * On success, in one D1 batch: every session and device credential is revoked, `users.deleted_at`
 * is set (sign-in, refresh and device credentials refuse a deleted user), the `account_deletions`
 * row the job resumes from is created under the account's pseudonym, and `account.delete_request`
 * is chained. Then the job is queued; the isolate's session cache forgets the user at once.
 */
import { and, eq, isNull } from "drizzle-orm";
import { pseudonymOf } from "../audit/pseudonym";
import { appendSecurityEvent } from "../audit/security-events";
import { revokeAllDevicesWrite } from "../auth/devices/devices";
import { reauthenticationOptions, userHandleOf, verifyAssertion } from "../auth/passkeys/ceremony";
import type { CeremonyContext } from "../auth/passkeys/context";
import { consumeFlow, createFlow } from "../auth/passkeys/flows";
import { type AuthenticationResponseInput, toAuthenticationJSON } from "../auth/passkeys/schema";
import { forgetUserSessions } from "../auth/session-cache";
import { accountDeletions, passkeys, sessions, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import type { AuthContext } from "../http/types";
import { errorName, log } from "../observability/log";
import { enqueueAccountDeletion } from "./job-message";

/** One answer for every failed confirmation; which check failed goes to the audit trail only. */
function confirmationFailed(): DomainError {
  return new DomainError("FORBIDDEN", "The passkey did not confirm the deletion; start again with new options.");
}

export async function startDeletion(ctx: CeremonyContext, auth: AuthContext) {
  const credentials = await ctx.db
    .select({ id: passkeys.id, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, auth.userId));
  if (credentials.length === 0) throw new DomainError("CONFLICT", "This account has no passkey to confirm the deletion with.");
  const options = await reauthenticationOptions(ctx.config, credentials);
  const flowId = await createFlow(ctx.db, { kind: "delete_account", challenge: options.challenge, userId: auth.userId });
  return { flowId, options };
}

export interface DeletionAccepted {
  status: "deleting";
  requestedAt: string;
}

export async function confirmDeletion(
  ctx: CeremonyContext,
  auth: AuthContext,
  input: { flowId: string; response: AuthenticationResponseInput },
): Promise<DeletionAccepted> {
  const now = new Date();
  // Bound to this user: another user's flow id is consumed by nobody and refused like an unknown one.
  const flow = await consumeFlow(ctx.db, input.flowId, "delete_account", { userId: auth.userId, now });
  if (!flow) return refuse(ctx, auth, "passkey:unknown", "flow unknown, expired, used or another user's");

  const [passkey] = await ctx.db
    .select()
    .from(passkeys)
    .where(and(eq(passkeys.id, input.response.id), eq(passkeys.userId, auth.userId)))
    .limit(1);
  // Another user's passkey (or an unknown one): the caller's text is not copied into the trail.
  if (!passkey) return refuse(ctx, auth, "passkey:unknown", "not one of the account's passkeys");
  const resource = `passkey:${passkey.id}`;
  const handle = input.response.response.userHandle;
  if (handle && handle !== userHandleOf(auth.userId)) return refuse(ctx, auth, resource, "user handle mismatch");
  const result = await verifyAssertion(ctx.config, flow.challenge, toAuthenticationJSON(input.response), passkey);
  if (!result.ok) return refuse(ctx, auth, resource, result.reason);

  const pseudonym = await pseudonymOf(ctx.config.AUDIT_PSEUDONYM_KEY, auth.userId);
  const { results } = await appendSecurityEvent(
    ctx.db,
    { ...ctx.audit, action: "account.delete_request", resource, subject: auth.userId, result: "success" },
    [
      ctx.db
        .update(passkeys)
        .set({ counter: result.counter, backedUp: result.backedUp, lastUsedAt: now })
        .where(eq(passkeys.id, passkey.id)),
      ctx.db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: "account_deleted" })
        .where(and(eq(sessions.userId, auth.userId), isNull(sessions.revokedAt))),
      revokeAllDevicesWrite(ctx.db, auth.userId, now),
      ctx.db
        .update(users)
        .set({ deletedAt: now })
        .where(and(eq(users.id, auth.userId), isNull(users.deletedAt)))
        .returning({ id: users.id }),
      ctx.db.insert(accountDeletions).values({ pseudonym, step: "requested", requestedAt: now }).onConflictDoNothing(),
    ],
  );
  forgetUserSessions(auth.userId);
  // Two confirmations racing with two flows both pass; only the one that marked the user queues the job.
  const marked = Array.isArray(results[3]) && results[3].length > 0;
  if (!marked) return { status: "deleting", requestedAt: now.toISOString() };
  try {
    await enqueueAccountDeletion(ctx.env, auth.userId);
  } catch (error) {
    // The deletion is committed (nothing works for the account any more); the daily sweep
    // (./resume.ts) queues the job for every deleted account still present.
    log("error", "account deletion not queued", { error: errorName(error) });
  }
  return { status: "deleting", requestedAt: now.toISOString() };
}

async function refuse(ctx: CeremonyContext, auth: AuthContext, resource: string, reason: string): Promise<never> {
  await appendSecurityEvent(ctx.db, {
    ...ctx.audit,
    action: "account.delete_request",
    resource,
    subject: auth.userId,
    reason,
    result: "failure",
  });
  throw confirmationFailed();
}
