import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { authFlows, passkeys, securityEvents, sessions } from "../../src/db/schema";
import { type CeremonyKnobs, SoftwareAuthenticator } from "./helpers/authenticator";
import { expectProblem } from "./helpers/security-cases";
import {
  api,
  type CreationOptions,
  expectStatus,
  type RequestOptions,
  type SignedUpUser,
  signIn,
  signUp,
  type TokenResponse,
  uniqueIp,
  uniqueUsername,
} from "./helpers/users";

const db = getDb(env.DB);

interface Ceremony<T> {
  flowId: string;
  options: T;
}

async function startLogin(body: { username?: string } = {}, ip = uniqueIp()): Promise<Ceremony<RequestOptions>> {
  return expectStatus<Ceremony<RequestOptions>>(await api("POST", "/v1/auth/login/options", { ip, body }), 200);
}

/** One sign-in ceremony with a request id of its own, to find its audit event. */
async function login(authenticator: SoftwareAuthenticator, knobs?: CeremonyKnobs, flow?: Ceremony<RequestOptions>) {
  const { flowId, options } = flow ?? (await startLogin());
  const requestId = `login-${crypto.randomUUID()}`;
  const response = await authenticator.authenticate(options, knobs);
  const res = await api("POST", "/v1/auth/login/verify", { body: { flowId, response }, headers: { "X-Request-Id": requestId } });
  const event = async () => {
    const [row] = await db.select().from(securityEvents).where(eq(securityEvents.requestId, requestId));
    return row;
  };
  return { res, event };
}

async function expectSignInFailed(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
  expect(await res.json()).toMatchObject({ code: "UNAUTHENTICATED", detail: "Sign-in failed." });
}

async function storedPasskey(user: SignedUpUser) {
  const [row] = await db.select().from(passkeys).where(eq(passkeys.id, user.authenticator.credentialId));
  return row;
}

describe("POST /v1/auth/login/options", () => {
  it("answers the same shape for a known username, an unknown one and none", async () => {
    const ada = await signUp();
    const answers = await Promise.all(
      [{ username: ada.user.username }, { username: uniqueUsername("nobody") }, {}].map((body) => startLogin(body)),
    );
    const shapes = answers.map(({ flowId, options }) => {
      const { challenge, ...rest } = options;
      expect(flowId).toMatch(/^flw_/);
      expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      return rest;
    });
    expect(shapes[0]).toEqual({ rpId: "localhost", allowCredentials: [], userVerification: "required", timeout: 300000 });
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
  });

  it("spends no per-account quota: a username named by anyone never answers 429", async () => {
    const username = uniqueUsername();
    for (let i = 0; i < 12; i++) await startLogin({ username });
    await startLogin({ username: username.toUpperCase() });
  });
});

describe("POST /v1/auth/login/verify", () => {
  it("signs in with a discoverable passkey, without a username, and audits it with the session", async () => {
    const ada = await signUp();
    const { res, event } = await login(ada.authenticator);
    const body = await expectStatus<TokenResponse>(res, 200);
    expect(body).toMatchObject({ user: { id: ada.user.id, username: ada.user.username }, tokenType: "Bearer", expiresIn: 900 });
    expect(body.sessionId).not.toBe(ada.sessionId);
    const me = await expectStatus<{ id: string }>(await api("GET", "/v1/me", { token: body.accessToken }), 200);
    expect(me.id).toBe(ada.user.id);

    expect(await event()).toMatchObject({
      action: "auth.login",
      result: "success",
      actor: ada.user.id,
      subject: ada.user.id,
      resource: `passkey:${ada.authenticator.credentialId}`,
    });
    const [session] = await db.select().from(sessions).where(eq(sessions.id, body.sessionId));
    expect(session).toMatchObject({ userId: ada.user.id, kind: "interactive", revokedAt: null });
    expect(await storedPasskey(ada)).toMatchObject({ counter: 1 });
    expect((await storedPasskey(ada))?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("signs in when a username is given too, and without a user handle", async () => {
    const ada = await signUp();
    expect((await signIn(ada.authenticator, { username: ada.user.username })).user.id).toBe(ada.user.id);
    expect((await signIn(ada.authenticator, { knobs: { userHandle: null } })).user.id).toBe(ada.user.id);
  });

  it("accepts a counter that stays 0, every time", async () => {
    const ada = await signUp({ authenticator: { counter: "zero" } });
    await signIn(ada.authenticator);
    await signIn(ada.authenticator);
    expect(await storedPasskey(ada)).toMatchObject({ counter: 0 });
  });

  it("refuses a counter that goes backwards or stands still, and audits it as a possible clone", async () => {
    const ada = await signUp();
    await signIn(ada.authenticator);
    await signIn(ada.authenticator);
    for (const counter of [1, 2]) {
      const { res, event } = await login(ada.authenticator, { counter });
      await expectSignInFailed(res);
      expect(await event()).toMatchObject({
        action: "auth.login",
        result: "failure",
        subject: ada.user.id,
        reason: "counter regression",
        actor: "anonymous",
      });
    }
    expect(await storedPasskey(ada)).toMatchObject({ counter: 2 });
    expect((await signIn(ada.authenticator)).user.id).toBe(ada.user.id);
  });

  it("stores the backed-up flag each sign-in reports", async () => {
    const ada = await signUp({ authenticator: { backupEligible: true } });
    expect(await storedPasskey(ada)).toMatchObject({ backupEligible: true, backedUp: false });
    await signIn(ada.authenticator, { knobs: { backedUp: true } });
    expect(await storedPasskey(ada)).toMatchObject({ backedUp: true });
  });

  const broken: [string, CeremonyKnobs][] = [
    ["a foreign origin", { origin: "https://evil.example" }],
    ["another RP ID", { rpId: "evil.example" }],
    ["another challenge", { challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }],
    ["no user verification", { userVerified: false }],
    ["a tampered signature", { tamperSignature: true }],
    ["a registration's client data type", { type: "webauthn.create" }],
    ["another user's handle", { userHandle: "dXNyX2FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh" }],
  ];
  for (const [what, knobs] of broken) {
    it(`refuses ${what} with the generic 401, audited against the account`, async () => {
      const ada = await signUp();
      const { res, event } = await login(ada.authenticator, knobs);
      await expectSignInFailed(res);
      expect(await event()).toMatchObject({ action: "auth.login", result: "failure", subject: ada.user.id });
    });
  }

  it("refuses an unknown credential with the same 401, audited without an account", async () => {
    const stranger = await SoftwareAuthenticator.create();
    const { res, event } = await login(stranger);
    await expectSignInFailed(res);
    expect(await event()).toMatchObject({
      action: "auth.login",
      result: "failure",
      subject: null,
      resource: "passkey:unknown",
      reason: "unknown credential",
    });
  });

  it("refuses an expired flow, a reused flow and a registration flow", async () => {
    const ada = await signUp();
    const expired = await startLogin();
    await db
      .update(authFlows)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(eq(authFlows.id, expired.flowId));
    await expectSignInFailed((await login(ada.authenticator, {}, expired)).res);

    const used = await startLogin();
    await expectStatus((await login(ada.authenticator, {}, used)).res, 200);
    await expectSignInFailed((await login(ada.authenticator, {}, used)).res);

    const register = await expectStatus<Ceremony<CreationOptions>>(
      await api("POST", "/v1/auth/register/options", { body: { username: uniqueUsername() } }),
      200,
    );
    const crossed = { flowId: register.flowId, options: { challenge: register.options.challenge, rpId: "localhost" } };
    const { res, event } = await login(ada.authenticator, {}, crossed);
    await expectSignInFailed(res);
    expect(await event()).toMatchObject({ reason: "flow unknown, expired or used", subject: ada.user.id });
  });

  it("lets exactly one of two concurrent verifications of one flow sign in", async () => {
    const ada = await signUp();
    const { flowId, options } = await startLogin();
    const response = await ada.authenticator.authenticate(options);
    const statuses = await Promise.all(
      [0, 1].map(async () => (await api("POST", "/v1/auth/login/verify", { body: { flowId, response } })).status),
    );
    expect(statuses.sort()).toEqual([200, 401]);
    const live = await db.select().from(sessions).where(eq(sessions.userId, ada.user.id));
    expect(live).toHaveLength(2);
  });

  it("rejects malformed bodies with 400", async () => {
    const { flowId } = await startLogin();
    for (const body of [{}, { flowId }, { flowId: "nope", response: {} }, { flowId, response: { id: "a" }, extra: 1 }]) {
      await expectProblem(await api("POST", "/v1/auth/login/verify", { body }), 400, "VALIDATION_FAILED");
    }
    const text = await exports.default.fetch("http://localhost/v1/auth/login/verify", {
      method: "POST",
      headers: { "Content-Type": "text/plain", "CF-Connecting-IP": uniqueIp() },
      body: JSON.stringify({ flowId }),
    });
    await expectProblem(text, 415, "UNSUPPORTED_MEDIA_TYPE");
  });
});
