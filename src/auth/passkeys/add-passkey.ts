/**
 * Adding a passkey to a signed-in account (`/v1/me/passkeys/options` and `/verify`). Also the one
 * thing a recovery session may do (DESIGN §4): once it has added a passkey, the recovery session
 * is ended in the same batch, and the client signs in normally with the new passkey.
 */
import { and, eq, isNull } from "drizzle-orm";
import { appendSecurityEvent } from "../../audit/security-events";
import { isConstraintViolation } from "../../db/errors";
import { passkeys, sessions, users } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import type { AuthContext } from "../../http/types";
import { forgetSession } from "../session-cache";
import { registrationOptions, verifyRegistration } from "./ceremony";
import type { CeremonyContext } from "./context";
import { addPasskeyFailed } from "./failures";
import { consumeFlow, createFlow } from "./flows";
import { MAX_PASSKEYS_PER_USER, passkeyCount } from "./management";
import { credentialTaken, refuseKnownCredential } from "./register";
import { type RegistrationResponseInput, toRegistrationJSON } from "./schema";
import { defaultPasskeyName, type PasskeyView, passkeyView } from "./views";

const tooMany = () =>
  new DomainError("CONFLICT", `An account holds at most ${MAX_PASSKEYS_PER_USER} passkeys; remove one first.`);

export async function startAddPasskey(ctx: CeremonyContext, auth: AuthContext) {
  const [user] = await ctx.db.select().from(users).where(eq(users.id, auth.userId)).limit(1);
  if (!user) throw new DomainError("NOT_FOUND", "No such user.");
  const existing = await ctx.db
    .select({ id: passkeys.id, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.userId, user.id));
  if (existing.length >= MAX_PASSKEYS_PER_USER) throw tooMany();
  // excludeCredentials keeps an authenticator from registering a second credential for the account.
  const options = await registrationOptions(ctx.config, user, existing);
  const flowId = await createFlow(ctx.db, { kind: "add_passkey", challenge: options.challenge, userId: user.id });
  return { flowId, options };
}

export async function finishAddPasskey(
  ctx: CeremonyContext,
  auth: AuthContext,
  input: { flowId: string; response: RegistrationResponseInput; name?: string | undefined },
): Promise<PasskeyView> {
  const now = new Date();
  const flow = await consumeFlow(ctx.db, input.flowId, "add_passkey", { userId: auth.userId, now });
  if (!flow) throw addPasskeyFailed();
  const credential = await verifyRegistration(ctx.config, flow.challenge, toRegistrationJSON(input.response));
  if (!credential) throw addPasskeyFailed();
  await refuseKnownCredential(ctx, credential.id);
  if ((await passkeyCount(ctx.db, auth.userId)) >= MAX_PASSKEYS_PER_USER) throw tooMany();

  const row = {
    ...credential,
    userId: auth.userId,
    name: input.name ?? defaultPasskeyName(now),
    createdAt: now,
    lastUsedAt: null,
  };
  const endRecovery =
    auth.scopes.includes("recovery") && auth.sessionId
      ? [
          ctx.db
            .update(sessions)
            .set({ revokedAt: now, revokedReason: "recovery_complete" })
            .where(and(eq(sessions.id, auth.sessionId), isNull(sessions.revokedAt))),
        ]
      : [];
  try {
    await appendSecurityEvent(
      ctx.db,
      { ...ctx.audit, action: "passkey.add", resource: `passkey:${credential.id}`, subject: auth.userId, result: "success" },
      [ctx.db.insert(passkeys).values(row), ...endRecovery],
    );
    if (endRecovery.length > 0 && auth.sessionId) forgetSession(auth.sessionId);
  } catch (error) {
    if (isConstraintViolation(error, /passkeys\.id\b/)) throw credentialTaken(error);
    throw error;
  }
  return passkeyView(row);
}
