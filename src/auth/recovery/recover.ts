/**
 * Account recovery with a recovery code (DESIGN §4). A valid code is consumed by one conditional
 * UPDATE (of two concurrent uses exactly one wins) and opens a 15-minute recovery session whose only
 * scope, `recovery`, lets it add a passkey and nothing else. Every attempt is audited as
 * `recovery.use`; an unknown username, a wrong or used code all get the same 401.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import { appendSecurityEvent } from "../../audit/security-events";
import { recoveryCodes, users } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { enforceQuota } from "../../rate-limit/middleware";
import type { CeremonyContext } from "../passkeys/context";
import { accountQuota } from "../rate-limits";
import { prepareSession, type TokenBody } from "../sessions";
import { hashCode, normalizeCode, prepareRecoveryCodes } from "./codes";

const recoveryFailed = () => new DomainError("UNAUTHENTICATED", "Recovery failed.");

export async function recoverAccount(ctx: CeremonyContext, input: { username: string; code: string }): Promise<TokenBody> {
  await enforceQuota(ctx.env, accountQuota(input.username));
  const now = new Date();
  const [user] = await ctx.db
    .select()
    .from(users)
    .where(and(sql`lower(${users.username}) = lower(${input.username})`, isNull(users.deletedAt)))
    .limit(1);
  const normalized = normalizeCode(input.code);
  const claimed =
    user && normalized
      ? await ctx.db
          .update(recoveryCodes)
          .set({ usedAt: now })
          .where(
            and(
              eq(recoveryCodes.userId, user.id),
              eq(recoveryCodes.codeHash, await hashCode(normalized)),
              isNull(recoveryCodes.usedAt),
            ),
          )
          .returning({ id: recoveryCodes.id })
      : [];
  const [code] = claimed;
  if (!user || !code) {
    await appendSecurityEvent(ctx.db, {
      ...ctx.audit,
      action: "recovery.use",
      resource: "recovery_code:unknown",
      subject: user?.id ?? null,
      reason: user ? "wrong or used code" : "unknown username",
      result: "failure",
    });
    throw recoveryFailed();
  }

  const session = await prepareSession(ctx, user, "recovery", ctx.userAgent, now);
  await appendSecurityEvent(
    ctx.db,
    {
      ...ctx.audit,
      actor: user.id,
      role: user.role,
      action: "recovery.use",
      resource: `recovery_code:${code.id}`,
      subject: user.id,
      result: "success",
    },
    session.writes,
  );
  return session.body;
}

/** Replaces all of the user's codes with 10 new ones; the old ones stop working at once. */
export async function regenerateRecoveryCodes(ctx: CeremonyContext, userId: string): Promise<string[]> {
  const fresh = await prepareRecoveryCodes(ctx.db, userId, new Date());
  await appendSecurityEvent(
    ctx.db,
    { ...ctx.audit, action: "recovery_codes.regenerate", resource: `user:${userId}`, subject: userId, result: "success" },
    [ctx.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)), ...fresh.writes],
  );
  return fresh.codes;
}
