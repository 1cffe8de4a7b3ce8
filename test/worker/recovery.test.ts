import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { recoveryCodes, securityEvents, sessions } from "../../src/db/schema";
import { SoftwareAuthenticator } from "./helpers/authenticator";
import { expectProblem } from "./helpers/security-cases";
import {
  addPasskey,
  api,
  expectStatus,
  type SignedUpUser,
  signIn,
  signUp,
  type TokenResponse,
  uniqueUsername,
} from "./helpers/users";

const db = getDb(env.DB);

function recover(username: string, code: string, headers: Record<string, string> = {}): Promise<Response> {
  return api("POST", "/v1/auth/recover", { body: { username, code }, headers });
}

async function recovered(user: SignedUpUser, code = user.recoveryCodes[0] ?? ""): Promise<TokenResponse> {
  return expectStatus<TokenResponse>(await recover(user.user.username, code), 200);
}

async function eventsOf(userId: string, action: string) {
  return db
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.subject, userId), eq(securityEvents.action, action)));
}

/** A failed recovery, minus the members that differ per request. */
async function failure(res: Response): Promise<Record<string, unknown>> {
  expect(res.status).toBe(401);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const { requestId: _requestId, ...rest } = await res.json<Record<string, unknown>>();
  return rest;
}

describe("POST /v1/auth/recover", () => {
  it("opens a short recovery session that can add a passkey, then ends; the new passkey signs in", async () => {
    const ada = await signUp();
    const session = await recovered(ada);
    const [row] = await db.select().from(sessions).where(eq(sessions.id, session.sessionId));
    expect(row?.kind).toBe("recovery");
    expect((row?.expiresAt.getTime() ?? 0) - (row?.createdAt.getTime() ?? 0)).toBe(15 * 60 * 1000);
    expect(await eventsOf(ada.user.id, "recovery.use")).toMatchObject([{ result: "success", actor: ada.user.id }]);

    const replacement = await SoftwareAuthenticator.create();
    const added = await expectStatus<{ id: string }>(
      await addPasskey(session.accessToken, replacement, { name: "New phone" }),
      201,
    );
    expect(added.id).toBe(replacement.credentialId);
    const [ended] = await db.select().from(sessions).where(eq(sessions.id, session.sessionId));
    expect(ended?.revokedReason).toBe("recovery_complete");
    await expectProblem(await api("POST", "/v1/me/passkeys/options", { token: session.accessToken }), 401, "UNAUTHENTICATED");

    const signedIn = await signIn(replacement);
    expect(signedIn.user.id).toBe(ada.user.id);
    const me = await expectStatus<{ id: string }>(await api("GET", "/v1/me", { token: signedIn.accessToken }), 200);
    expect(me.id).toBe(ada.user.id);
  });

  it("refuses a recovery token everywhere but adding a passkey (403)", async () => {
    const ada = await signUp();
    const { accessToken: token } = await recovered(ada);
    const path = `/v1/me/passkeys/${ada.authenticator.credentialId}`;
    for (const [method, route, body] of [
      ["GET", "/v1/me", undefined],
      ["GET", "/v1/me/passkeys", undefined],
      ["PATCH", path, { name: "Mine now" }],
      ["DELETE", path, undefined],
      ["POST", "/v1/me/recovery-codes", undefined],
      ["GET", "/v1/me/sessions", undefined],
    ] as const) {
      await expectProblem(await api(method, route, { token, body }), 403, "FORBIDDEN");
    }
    await expectStatus(await api("POST", "/v1/me/passkeys/options", { token }), 200);
  });

  it("accepts a code typed in capitals and with spaces", async () => {
    const ada = await signUp();
    const typed = (ada.recoveryCodes[1] ?? "").toUpperCase().replaceAll("-", " ");
    await recovered(ada, typed);
  });

  it("uses each code once: a reused code gets the generic 401 and is audited", async () => {
    const ada = await signUp();
    await recovered(ada);
    const reused = await failure(await recover(ada.user.username, ada.recoveryCodes[0] ?? ""));
    expect(reused).toMatchObject({ code: "UNAUTHENTICATED", detail: "Recovery failed." });
    const failures = (await eventsOf(ada.user.id, "recovery.use")).filter((event) => event.result === "failure");
    expect(failures).toMatchObject([{ reason: "wrong or used code", actor: "anonymous" }]);
  });

  it("answers a wrong code, a malformed code and an unknown username identically", async () => {
    const ada = await signUp();
    const bodies = [
      await failure(await recover(ada.user.username, "aaaaa-aaaaa-aaaaa-aaaaa")),
      await failure(await recover(ada.user.username, "not a code")),
      await failure(await recover(uniqueUsername("nobody"), ada.recoveryCodes[0] ?? "")),
    ];
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    const [unused] = await db
      .select()
      .from(recoveryCodes)
      .where(and(eq(recoveryCodes.userId, ada.user.id)));
    expect(unused?.usedAt).toBeNull();
  });

  it("lets exactly one of two concurrent uses of one code through", async () => {
    const ada = await signUp();
    const code = ada.recoveryCodes[2] ?? "";
    const statuses = await Promise.all([0, 1].map(async () => (await recover(ada.user.username, code)).status));
    expect(statuses.sort()).toEqual([200, 401]);
  });

  it("answers wrong codes past 10 a minute per account with 429, yet accepts a valid code", async () => {
    const ada = await signUp();
    for (let i = 0; i < 10; i++) await failure(await recover(ada.user.username, "aaaaa-aaaaa-aaaaa-aaaaa"));
    await expectProblem(await recover(ada.user.username, "aaaaa-aaaaa-aaaaa-aaaaa"), 429, "RATE_LIMITED");
    await recovered(ada);
  });

  it("rejects malformed bodies (400)", async () => {
    for (const body of [{}, { username: "ada" }, { username: "ada", code: "" }, { username: "ada", code: "x", extra: true }]) {
      await expectProblem(await api("POST", "/v1/auth/recover", { body }), 400, "VALIDATION_FAILED");
    }
  });
});

describe("POST /v1/me/recovery-codes", () => {
  it("replaces every code with 10 new ones, shown once, and audits it", async () => {
    const ada = await signUp();
    const fresh = await expectStatus<{ recoveryCodes: string[] }>(
      await api("POST", "/v1/me/recovery-codes", { token: ada.accessToken }),
      201,
    );
    expect(fresh.recoveryCodes).toHaveLength(10);
    expect(fresh.recoveryCodes.filter((code) => ada.recoveryCodes.includes(code))).toEqual([]);
    expect(await db.select().from(recoveryCodes).where(eq(recoveryCodes.userId, ada.user.id))).toHaveLength(10);
    await failure(await recover(ada.user.username, ada.recoveryCodes[0] ?? ""));
    await recovered(ada, fresh.recoveryCodes[0]);
    expect(await eventsOf(ada.user.id, "recovery_codes.regenerate")).toMatchObject([{ result: "success", actor: ada.user.id }]);
  });
});
