/**
 * Account recovery with a recovery code (DESIGN §4). A valid code is consumed by one conditional
 * UPDATE (of two concurrent uses exactly one wins) and opens a 15-minute recovery session whose only
 * scope, `recovery`, lets it add a passkey and nothing else. Every attempt is audited as
 * `recovery.use`; an unknown username, a wrong or used code all get the same 401.
 *
 * Limits (src/auth/rate-limits.ts, docs/identity.md): per IP; wrong codes per (client, username)
 * and per username, which turn further wrong codes into 429 but never stop a valid code, so neither a
 * stranger nor a neighbour behind the same address can lock the owner out. Failures are counted by the
 * typed username, known or not, so the 429 does not reveal whether an account exists.
 */
import { and, eq, isNull, or, sql } from "drizzle-orm";
import { appendSecurityEvent } from "../../audit/security-events";
import { recoveryCodes, users } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { enforceUsername } from "../../identifiers/precis";
import type { CeremonyContext } from "../passkeys/context";
import { accountFailure, enforceRecoveryAttempt, enforceRecoveryCodeRegeneration } from "../rate-limits";
import { prepareSession, type TokenBody } from "../sessions";
import { hashCode, normalizeCode, prepareRecoveryCodes } from "./codes";

const recoveryFailed = () => new DomainError("UNAUTHENTICATED", "Recovery failed.");

export async function recoverAccount(ctx: CeremonyContext, input: { username: string; code: string }): Promise<TokenBody> {
  // The typed name in its enforced form finds the account (`ＡＤＡ` is `ada`); the raw form, ASCII
  // case-insensitively, still finds a legacy name that no longer validates.
  const enforced = enforceUsername(input.username);
  const account = enforced.ok ? enforced.value : input.username.toLowerCase();
  const now = new Date();
  const byName = sql`lower(${users.username}) = lower(${input.username})`;
  const [user] = await ctx.db
    .select()
    .from(users)
    .where(and(enforced.ok ? or(eq(users.username, enforced.value), byName) : byName, isNull(users.deletedAt)))
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
    // Only wrong codes are counted, after the check: a valid code is accepted from any address
    // however many wrong ones came before it, even from a neighbour behind the same NAT.
    await enforceRecoveryAttempt(ctx.env, ctx.client, account);
    throw await accountFailure(ctx.env, `username:${account}`, recoveryFailed());
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
  await enforceRecoveryCodeRegeneration(ctx.env, userId);
  const fresh = await prepareRecoveryCodes(ctx.db, userId, new Date());
  await appendSecurityEvent(
    ctx.db,
    { ...ctx.audit, action: "recovery_codes.regenerate", resource: `user:${userId}`, subject: userId, result: "success" },
    [ctx.db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)), ...fresh.writes],
  );
  return fresh.codes;
}
