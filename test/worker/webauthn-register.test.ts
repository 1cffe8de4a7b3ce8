import { env } from "cloudflare:workers";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { authFlows, passkeys, recoveryCodes, securityEvents, sessions, users } from "../../src/db/schema";
import { type CeremonyKnobs, SoftwareAuthenticator, toBase64url } from "./helpers/authenticator";
import { expectProblem } from "./helpers/security-cases";
import {
  api,
  type CreationOptions,
  expectStatus,
  type RequestOptions,
  type SignedUpUser,
  signUp,
  uniqueIp,
  uniqueUsername,
} from "./helpers/users";

const db = getDb(env.DB);

interface Ceremony<T> {
  flowId: string;
  options: T;
}

function registerOptions(username: string, ip = uniqueIp()): Promise<Response> {
  return api("POST", "/v1/auth/register/options", { ip, body: { username } });
}

async function startRegistration(username = uniqueUsername()): Promise<Ceremony<CreationOptions>> {
  return expectStatus<Ceremony<CreationOptions>>(await registerOptions(username), 200);
}

async function verifyRegistration(
  flowId: string,
  authenticator: SoftwareAuthenticator,
  options: CreationOptions,
  knobs?: CeremonyKnobs,
) {
  const response = await authenticator.register(options, knobs);
  return api("POST", "/v1/auth/register/verify", { body: { flowId, response } });
}

async function expectRegistrationFailed(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(await res.json()).toMatchObject({ code: "UNAUTHENTICATED", detail: "Passkey registration failed." });
}

async function userNamed(username: string) {
  return db.select().from(users).where(sql`lower(${users.username}) = lower(${username})`);
}

describe("POST /v1/auth/register/options", () => {
  it("asks for a discoverable, user-verified passkey with no attestation", async () => {
    const { flowId, options } = await startRegistration("ada-options");
    expect(flowId).toMatch(/^flw_[a-z2-7]{26}$/);
    expect(options).toMatchObject({
      rp: { id: "localhost", name: "Pulse" },
      user: { name: "ada-options", displayName: "ada-options" },
      attestation: "none",
      excludeCredentials: [],
      authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
    });
    expect(options.pubKeyCredParams.map((param) => param.alg)).toEqual([-8, -7, -257]);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [flow] = await db.select().from(authFlows).where(eq(authFlows.id, flowId));
    expect(flow).toMatchObject({ kind: "register", challenge: options.challenge, consumedAt: null });
    expect((flow?.expiresAt.getTime() ?? 0) - (flow?.createdAt.getTime() ?? 0)).toBe(5 * 60 * 1000);
  });

  it("answers a taken username exactly like a free one", async () => {
    const ada = await signUp();
    const taken = await registerOptions(ada.user.username);
    const free = await registerOptions(uniqueUsername());
    expect(taken.status).toBe(free.status);
    const [a, b] = [await taken.json<Ceremony<CreationOptions>>(), await free.json<Ceremony<CreationOptions>>()];
    const shape = (ceremony: Ceremony<CreationOptions>) => ({
      keys: Object.keys(ceremony).sort(),
      optionKeys: Object.keys(ceremony.options).sort(),
      excluded: ceremony.options.excludeCredentials,
      selection: ceremony.options.authenticatorSelection,
      userId: ceremony.options.user.id.length,
    });
    expect(shape(a)).toEqual(shape(b));
    expect(a.options.user.id).not.toBe(ada.authenticator.userHandle);
  });

  it("rejects a missing or oversized username and unknown fields (400)", async () => {
    for (const body of [{}, { username: "" }, { username: "x".repeat(65) }, { username: "ada", admin: true }]) {
      await expectProblem(await api("POST", "/v1/auth/register/options", { body }), 400, "VALIDATION_FAILED");
    }
  });
});

describe("POST /v1/auth/register/verify", () => {
  it("creates the account, its passkey, 10 hashed recovery codes and a session, in one audited batch", async () => {
    const ada: SignedUpUser = await signUp({ displayName: "Ada Lovelace", authenticator: { backupEligible: true } });
    expect(ada).toMatchObject({ tokenType: "Bearer", expiresIn: 900, user: { displayName: "Ada Lovelace", role: "patient" } });
    expect(ada.recoveryCodes).toHaveLength(10);
    expect(new Set(ada.recoveryCodes).size).toBe(10);
    for (const code of ada.recoveryCodes) expect(code).toMatch(/^[a-z2-7]{5}(-[a-z2-7]{5}){3}$/);
    expect(ada.authenticator.userHandle).toBe(toBase64url(new TextEncoder().encode(ada.user.id)));

    const [passkey] = await db.select().from(passkeys).where(eq(passkeys.userId, ada.user.id));
    expect(passkey).toMatchObject({ id: ada.authenticator.credentialId, counter: 0, backupEligible: true, backedUp: false });
    const codes = await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, ada.user.id));
    expect(codes).toHaveLength(10);
    for (const row of codes) {
      expect(row.codeHash).toMatch(/^[0-9a-f]{64}$/);
      expect(ada.recoveryCodes.join()).not.toContain(row.codeHash);
    }
    const [session] = await db.select().from(sessions).where(eq(sessions.id, ada.sessionId));
    expect(session).toMatchObject({ userId: ada.user.id, kind: "interactive" });
    const events = await db.select().from(securityEvents).where(eq(securityEvents.subject, ada.user.id));
    expect(events.map((event) => [event.action, event.actor, event.result])).toEqual([["user.create", ada.user.id, "success"]]);

    const me = await expectStatus<{ id: string }>(await api("GET", "/v1/me", { token: ada.accessToken }), 200);
    expect(me.id).toBe(ada.user.id);
  });

  it("accepts http://127.0.0.1 and any localhost port outside production", async () => {
    for (const origin of ["http://127.0.0.1:8787", "http://localhost:5173"]) {
      const ada = await signUp({ authenticator: { origin } });
      expect(ada.user.id).toMatch(/^usr_/);
    }
  });

  it("answers 409 for a username taken meanwhile, and leaves no trace of the attempt", async () => {
    const username = uniqueUsername();
    const first = await startRegistration(username);
    const second = await startRegistration(username.toUpperCase());
    const ada = await SoftwareAuthenticator.create();
    const eve = await SoftwareAuthenticator.create();
    await expectStatus(await verifyRegistration(first.flowId, ada, first.options), 201);
    await expectProblem(await verifyRegistration(second.flowId, eve, second.options), 409, "CONFLICT");
    expect(await userNamed(username)).toHaveLength(1);
    expect(await db.select().from(passkeys).where(eq(passkeys.id, eve.credentialId))).toEqual([]);
  });

  it("refuses a credential id that is already registered (409)", async () => {
    const ada = await signUp();
    const { flowId, options } = await startRegistration();
    await expectProblem(await verifyRegistration(flowId, ada.authenticator, options), 409, "CONFLICT");
    expect(await userNamed(options.user.name)).toEqual([]);
  });

  const broken: [string, CeremonyKnobs][] = [
    ["a foreign origin", { origin: "https://evil.example" }],
    ["another RP ID", { rpId: "evil.example" }],
    ["another challenge", { challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }],
    ["no user verification", { userVerified: false }],
    ["an assertion's client data type", { type: "webauthn.get" }],
  ];
  for (const [what, knobs] of broken) {
    it(`refuses a response with ${what} (generic 401), creating nothing`, async () => {
      const { flowId, options } = await startRegistration();
      const key = await SoftwareAuthenticator.create();
      await expectRegistrationFailed(await verifyRegistration(flowId, key, options, knobs));
      expect(await userNamed(options.user.name)).toEqual([]);
    });
  }

  it("refuses an expired flow, a reused flow and a sign-in flow (generic 401)", async () => {
    const key = await SoftwareAuthenticator.create();
    const expired = await startRegistration();
    await db
      .update(authFlows)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(eq(authFlows.id, expired.flowId));
    await expectRegistrationFailed(await verifyRegistration(expired.flowId, key, expired.options));

    const used = await startRegistration();
    await expectStatus(await verifyRegistration(used.flowId, key, used.options), 201);
    await expectRegistrationFailed(await verifyRegistration(used.flowId, await SoftwareAuthenticator.create(), used.options));

    const login = await expectStatus<Ceremony<RequestOptions>>(await api("POST", "/v1/auth/login/options", { body: {} }), 200);
    const other = await startRegistration();
    const response = await (await SoftwareAuthenticator.create()).register({
      ...other.options,
      challenge: login.options.challenge,
    });
    await expectRegistrationFailed(await api("POST", "/v1/auth/register/verify", { body: { flowId: login.flowId, response } }));
    const [loginFlow] = await db
      .select()
      .from(authFlows)
      .where(and(eq(authFlows.id, login.flowId), eq(authFlows.kind, "login")));
    expect(loginFlow?.consumedAt).toBeNull();
  });

  it("lets exactly one of two concurrent verifications of one flow create the account", async () => {
    const { flowId, options } = await startRegistration();
    const key = await SoftwareAuthenticator.create();
    const response = await key.register(options);
    const results = await Promise.all(
      [0, 1].map(() => api("POST", "/v1/auth/register/verify", { body: { flowId, response } }).then((res) => res.status)),
    );
    expect(results.sort()).toEqual([201, 401]);
    expect(await userNamed(options.user.name)).toHaveLength(1);
  });

  it("rejects malformed bodies with 400 before any ceremony work", async () => {
    const { flowId } = await startRegistration();
    for (const body of [
      {},
      { flowId: "flw_nope", response: {} },
      { flowId, response: { id: "a", rawId: "a", type: "password", response: {} } },
      { flowId, response: { id: "a", rawId: "a", type: "public-key", response: { clientDataJSON: "!!" } } },
    ]) {
      await expectProblem(await api("POST", "/v1/auth/register/verify", { body }), 400, "VALIDATION_FAILED");
    }
  });
});
