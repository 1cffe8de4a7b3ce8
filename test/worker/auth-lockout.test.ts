/**
 * Strangers cannot lock a person out: requests that carry no credential spend no per-account
 * quota, a correctly signed assertion or a valid recovery code always gets through, and only
 * failures are counted per account (src/auth/rate-limits.ts).
 */
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { securityEvents } from "../../src/db/schema";
import { expectProblem } from "./helpers/security-cases";
import {
  api,
  attemptSignIn,
  expectStatus,
  type SignedUpUser,
  signIn,
  signUp,
  type TokenResponse,
  uniqueIp,
  uniqueUsername,
} from "./helpers/users";

const db = getDb(env.DB);
const WRONG_CODE = "aaaaa-aaaaa-aaaaa-aaaaa";

function recover(username: string, code: string, ip = uniqueIp()): Promise<Response> {
  return api("POST", "/v1/auth/recover", { ip, body: { username, code } });
}

/** What an attacker without any credential can send about a victim, each from a fresh address. */
async function floodWithoutCredentials(victim: SignedUpUser, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const login = await api("POST", "/v1/auth/login/options", { body: { username: victim.user.username.toUpperCase() } });
    expect(login.status).toBe(200);
    const register = await api("POST", "/v1/auth/register/options", { body: { username: victim.user.username } });
    expect(register.status).toBe(200);
    // A verify that names the victim's credential (ids are not secrets) without a valid signature.
    const { flowId } = await login.json<{ flowId: string }>();
    const forged = await api("POST", "/v1/auth/login/verify", {
      body: {
        flowId,
        response: {
          id: victim.authenticator.credentialId,
          rawId: victim.authenticator.credentialId,
          type: "public-key",
          response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
        },
      },
    });
    // Past 10 failures a minute the forger is told to back off instead.
    expect([401, 429]).toContain(forged.status);
  }
}

async function auditedFailures(userId: string, action: string): Promise<number> {
  const rows = await db
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.subject, userId), eq(securityEvents.action, action), eq(securityEvents.result, "failure")));
  return rows.length;
}

describe("sign-in lockout by strangers", () => {
  it("lets the victim sign in (username and discoverable) and recover after a flood of options from rotating addresses", async () => {
    const victim = await signUp();
    await floodWithoutCredentials(victim, 12);

    const withUsername = await signIn(victim.authenticator, { username: victim.user.username });
    expect(withUsername.user.id).toBe(victim.user.id);
    const discoverable = await signIn(victim.authenticator);
    expect(discoverable.user.id).toBe(victim.user.id);
    const recovered = await expectStatus<TokenResponse>(await recover(victim.user.username, victim.recoveryCodes[0] ?? ""), 200);
    expect(recovered.user.id).toBe(victim.user.id);
  });

  it("still limits option requests per address (60 a minute)", async () => {
    const ip = uniqueIp();
    for (let i = 0; i < 60; i++) {
      const res = await api("POST", "/v1/auth/login/options", { ip, body: { username: uniqueUsername() } });
      expect(res.status).toBe(200);
    }
    const denied = await api("POST", "/v1/auth/login/options", { ip, body: {} });
    await expectProblem(denied, 429, "RATE_LIMITED");
    expect(Number(denied.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("backs off failed assertions against an account (429) but lets a correctly signed one through", async () => {
    const victim = await signUp();
    for (let i = 0; i < 10; i++) {
      const res = await attemptSignIn(victim.authenticator, { knobs: { tamperSignature: true } });
      expect(res.status).toBe(401);
    }
    const backedOff = await attemptSignIn(victim.authenticator, { knobs: { tamperSignature: true } });
    await expectProblem(backedOff, 429, "RATE_LIMITED");
    expect(Number(backedOff.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await auditedFailures(victim.user.id, "auth.login")).toBe(11);

    expect((await signIn(victim.authenticator)).user.id).toBe(victim.user.id);
    expect((await signIn(victim.authenticator, { username: victim.user.username })).user.id).toBe(victim.user.id);
  });
});

describe("recovery-code guessing", () => {
  it("backs off wrong codes per username (429) without ever refusing a valid code from elsewhere", async () => {
    const victim = await signUp();
    for (let i = 0; i < 10; i++) expect((await recover(victim.user.username, WRONG_CODE)).status).toBe(401);
    await expectProblem(await recover(victim.user.username, WRONG_CODE), 429, "RATE_LIMITED");
    expect(await auditedFailures(victim.user.id, "recovery.use")).toBe(11);

    const recovered = await expectStatus<TokenResponse>(await recover(victim.user.username, victim.recoveryCodes[3] ?? ""), 200);
    expect(recovered.user.id).toBe(victim.user.id);
  });

  it("answers an unknown username the same way, so the back-off reveals no account", async () => {
    const nobody = uniqueUsername("nobody");
    for (let i = 0; i < 10; i++) expect((await recover(nobody, WRONG_CODE)).status).toBe(401);
    await expectProblem(await recover(nobody, WRONG_CODE), 429, "RATE_LIMITED");
  });

  it("backs off one client's wrong codes for an hour, yet a valid code from that same address still recovers", async () => {
    const victim = await signUp();
    // A neighbour behind the owner's address (a carrier-grade NAT, a hospital network) guesses.
    const shared = uniqueIp();
    for (let i = 0; i < 10; i++) expect((await recover(victim.user.username, WRONG_CODE, shared)).status).toBe(401);
    const backedOff = await recover(victim.user.username, WRONG_CODE, shared);
    await expectProblem(backedOff, 429, "RATE_LIMITED");
    expect(Number(backedOff.headers.get("Retry-After"))).toBeGreaterThan(60);

    const recovered = await expectStatus<TokenResponse>(
      await recover(victim.user.username, victim.recoveryCodes[0] ?? "", shared),
      200,
    );
    expect(recovered.user.id).toBe(victim.user.id);
  });
});

describe("POST /v1/me/recovery-codes throttle", () => {
  it("allows 3 replacements an hour, then 429 with Retry-After; each replacement is audited", async () => {
    const ada = await signUp();
    let last: string[] = ada.recoveryCodes;
    for (let i = 0; i < 3; i++) {
      last = (
        await expectStatus<{ recoveryCodes: string[] }>(
          await api("POST", "/v1/me/recovery-codes", { token: ada.accessToken }),
          201,
        )
      ).recoveryCodes;
    }
    const denied = await api("POST", "/v1/me/recovery-codes", { token: ada.accessToken });
    await expectProblem(denied, 429, "RATE_LIMITED");
    expect(Number(denied.headers.get("Retry-After"))).toBeGreaterThan(60);

    const events = await db
      .select()
      .from(securityEvents)
      .where(and(eq(securityEvents.subject, ada.user.id), eq(securityEvents.action, "recovery_codes.regenerate")));
    expect(events.map((event) => event.result)).toEqual(["success", "success", "success"]);
    // The refused request left the last set in force.
    await expectStatus<TokenResponse>(await recover(ada.user.username, last[0] ?? ""), 200);
  });
});
