/**
 * Passkey sign-in (DESIGN §4). Options never list credentials (all passkeys are discoverable), so
 * they look the same for a known username, an unknown one and none. Verification claims the flow,
 * finds the credential by id, verifies the assertion, and writes the new session, the passkey's
 * counter/backup state and the `auth.login` event in one batch. Every failure is audited with its
 * reason (and the account, when the credential is known) and answered with one generic 401.
 *
 * Nothing here spends a per-account quota before the assertion is checked (src/auth/rate-limits.ts):
 * only the per-IP limit applies to options, and a correctly signed assertion always signs in. A
 * failure against a known credential is counted for its account, and past the failure windows it
 * is answered 429 instead of 401.
 */
import { and, eq, isNull } from "drizzle-orm";
import { appendSecurityEvent } from "../../audit/security-events";
import { passkeys, type UserRow, users } from "../../db/schema";
import { accountFailure } from "../rate-limits";
import { prepareSession, type TokenBody } from "../sessions";
import { authenticationOptions, userHandleOf, verifyAssertion } from "./ceremony";
import type { CeremonyContext } from "./context";
import { signInFailed } from "./failures";
import { consumeFlow, createFlow } from "./flows";
import { type AuthenticationResponseInput, toAuthenticationJSON } from "./schema";
import type { PasskeyRow } from "./views";

export async function startLogin(ctx: CeremonyContext, _input: { username?: string | undefined }) {
  // The username is accepted (DESIGN §4) but unused: options never list credentials, and letting it
  // spend a per-account quota would let anyone lock its owner out.
  const options = await authenticationOptions(ctx.config);
  const flowId = await createFlow(ctx.db, { kind: "login", challenge: options.challenge });
  return { flowId, options };
}

export async function finishLogin(
  ctx: CeremonyContext,
  input: { flowId: string; response: AuthenticationResponseInput },
): Promise<TokenBody> {
  const now = new Date();
  const flow = await consumeFlow(ctx.db, input.flowId, "login", { now });
  const found = await findCredential(ctx, input.response.id);
  if (!flow) return fail(ctx, found, "flow unknown, expired or used");
  if (!found) return fail(ctx, found, "unknown credential");
  const { passkey, user } = found;

  // WebAuthn L3 §7.2 step 6: a returned user handle must be the credential owner's.
  const handle = input.response.response.userHandle;
  if (handle && handle !== userHandleOf(user.id)) return fail(ctx, found, "user handle mismatch");

  const result = await verifyAssertion(ctx.config, flow.challenge, toAuthenticationJSON(input.response), passkey);
  if (!result.ok) return fail(ctx, found, result.reason);

  const session = await prepareSession(ctx, user, "interactive", ctx.userAgent, now);
  const touch = ctx.db
    .update(passkeys)
    .set({ counter: result.counter, backedUp: result.backedUp, lastUsedAt: now })
    .where(eq(passkeys.id, passkey.id));
  await appendSecurityEvent(
    ctx.db,
    {
      ...ctx.audit,
      actor: user.id,
      role: user.role,
      action: "auth.login",
      resource: `passkey:${passkey.id}`,
      subject: user.id,
      result: "success",
    },
    [...session.writes, touch],
  );
  return session.body;
}

interface FoundCredential {
  passkey: PasskeyRow;
  user: UserRow;
}

async function findCredential(ctx: CeremonyContext, credentialId: string): Promise<FoundCredential | undefined> {
  const [row] = await ctx.db
    .select({ passkey: passkeys, user: users })
    .from(passkeys)
    .innerJoin(users, eq(users.id, passkeys.userId))
    .where(and(eq(passkeys.id, credentialId), isNull(users.deletedAt)))
    .limit(1);
  return row;
}

async function fail(ctx: CeremonyContext, found: FoundCredential | undefined, reason: string): Promise<never> {
  await appendSecurityEvent(ctx.db, {
    ...ctx.audit,
    action: "auth.login",
    // An unknown credential id is the caller's text: it is not copied into the trail.
    resource: found ? `passkey:${found.passkey.id}` : "passkey:unknown",
    subject: found?.user.id ?? null,
    reason,
    result: "failure",
  });
  // Only a known credential names an account; an unknown one is left to the per-IP limit.
  throw found ? await accountFailure(ctx.env, `user:${found.user.id}`, signInFailed()) : signInFailed();
}
