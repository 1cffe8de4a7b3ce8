/**
 * Self-registration with a passkey (DESIGN §4): options, then verify, which creates the account,
 * its first passkey, its recovery codes and its first session.
 *
 * Enumeration: the options answer is the same whether or not the username is taken (nothing is
 * looked up). A taken username is only revealed at verify, as 409: unavoidable, since the account
 * must be refused at some point, and it costs a complete passkey ceremony and the per-IP quota for
 * each name probed. No per-username quota is spent: one would let strangers block a sign-up.
 *
 * Audit: one batch writes the user, the passkey, the recovery code hashes, the session and the
 * single `user.create` event that records them (src/users/users.ts createUser). No separate
 * `passkey.add` event is chained for the first passkey: the audit appender records one event per
 * batch, and a second batch could leave an account without its event, while one batch can never
 * leave a user without a passkey or a passkey without its user.
 */
import { eq } from "drizzle-orm";
import { isConstraintViolation } from "../../db/errors";
import { newId } from "../../db/ids";
import { passkeys, type UserRow } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { createUser } from "../../users/users";
import { prepareRecoveryCodes } from "../recovery/codes";
import { prepareSession, publicUser, type TokenBody } from "../sessions";
import { registrationOptions, verifyRegistration } from "./ceremony";
import type { CeremonyContext } from "./context";
import { registrationFailed } from "./failures";
import { consumeFlow, createFlow } from "./flows";
import { type RegistrationResponseInput, toRegistrationJSON } from "./schema";
import { defaultPasskeyName } from "./views";

export async function startRegistration(ctx: CeremonyContext, input: { username: string; displayName?: string | undefined }) {
  // The user id is chosen now: it is the WebAuthn user handle the authenticator stores.
  const user = { id: newId("usr"), username: input.username, displayName: input.displayName ?? input.username };
  const options = await registrationOptions(ctx.config, user);
  const flowId = await createFlow(ctx.db, {
    kind: "register",
    challenge: options.challenge,
    userId: user.id,
    username: user.username,
    displayName: user.displayName,
  });
  return { flowId, options };
}

export async function finishRegistration(
  ctx: CeremonyContext,
  input: { flowId: string; response: RegistrationResponseInput; name?: string | undefined },
): Promise<TokenBody & { recoveryCodes: string[] }> {
  const now = new Date();
  const flow = await consumeFlow(ctx.db, input.flowId, "register", { now });
  if (!flow?.userId || !flow.username) throw registrationFailed();

  const credential = await verifyRegistration(ctx.config, flow.challenge, toRegistrationJSON(input.response));
  if (!credential) throw registrationFailed();
  await refuseKnownCredential(ctx, credential.id);

  const provisional: UserRow = {
    id: flow.userId,
    username: flow.username,
    usernameSkeleton: null,
    displayName: flow.displayName ?? flow.username,
    role: "patient",
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
  };
  const codes = await prepareRecoveryCodes(ctx.db, provisional.id, now);
  const session = await prepareSession(ctx, provisional, "interactive", ctx.userAgent, now);
  const passkey = ctx.db.insert(passkeys).values({
    ...credential,
    userId: provisional.id,
    name: input.name ?? defaultPasskeyName(now),
    createdAt: now,
    lastUsedAt: now,
  });
  let user: UserRow;
  try {
    user = await createUser(
      ctx,
      { id: provisional.id, username: provisional.username, displayName: provisional.displayName },
      { ...ctx.audit, actor: provisional.id, role: "patient" },
      [passkey, ...codes.writes, ...session.writes],
    );
  } catch (error) {
    if (isConstraintViolation(error, /passkeys\.id\b/)) throw credentialTaken(error);
    throw error;
  }
  return { ...session.body, user: publicUser(user), recoveryCodes: codes.codes };
}

/** WebAuthn L3 §7.1 step 26: a credential id registered before is refused, whoever holds it. */
export async function refuseKnownCredential(ctx: Pick<CeremonyContext, "db">, credentialId: string): Promise<void> {
  const [known] = await ctx.db.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.id, credentialId)).limit(1);
  if (known) throw credentialTaken();
}

export function credentialTaken(cause?: unknown): DomainError {
  return new DomainError("CONFLICT", "This passkey is already registered.", { cause });
}
