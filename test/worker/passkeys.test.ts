import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "../../src/db/client";
import { recoveryCodes, securityEvents } from "../../src/db/schema";
import { SoftwareAuthenticator } from "./helpers/authenticator";
import { expectProblem } from "./helpers/security-cases";
import { addPasskey, api, attemptSignIn, type CreationOptions, expectStatus, signIn, signUp } from "./helpers/users";

const db = getDb(env.DB);

interface PasskeyBody {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  deviceType: string;
  backupEligible: boolean;
  backedUp: boolean;
  transports: string[];
  aaguid: string;
}

async function listOf(token: string): Promise<PasskeyBody[]> {
  const body = await expectStatus<{ items: PasskeyBody[]; nextCursor: string | null }>(
    await api("GET", "/v1/me/passkeys", { token }),
    200,
  );
  expect(body.nextCursor).toBeNull();
  return body.items;
}

async function eventsOf(userId: string, action: string) {
  return db
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.subject, userId), eq(securityEvents.action, action)));
}

describe("GET /v1/me/passkeys", () => {
  it("lists the passkey made at registration with its backup flags, never its key or counter", async () => {
    const ada = await signUp({ authenticator: { backupEligible: true, backedUp: true, transports: ["internal", "hybrid"] } });
    const [passkey, ...rest] = await listOf(ada.accessToken);
    expect(rest).toEqual([]);
    expect(passkey).toMatchObject({
      id: ada.authenticator.credentialId,
      deviceType: "multiDevice",
      backupEligible: true,
      backedUp: true,
      transports: ["internal", "hybrid"],
      aaguid: "00000000-0000-0000-0000-000000000000",
    });
    expect(passkey?.name).toMatch(/^Passkey added \d{4}-\d{2}-\d{2}$/);
    expect(passkey).not.toHaveProperty("publicKey");
    expect(passkey).not.toHaveProperty("counter");
  });

  it("reports a single-device passkey and records when it was last used", async () => {
    const ada = await signUp();
    const [before] = await listOf(ada.accessToken);
    expect(before).toMatchObject({ deviceType: "singleDevice", backupEligible: false, backedUp: false });
    const again = await signIn(ada.authenticator);
    const [after] = await listOf(again.accessToken);
    expect(Date.parse(after?.lastUsedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(before?.lastUsedAt ?? ""));
  });
});

describe("adding a passkey", () => {
  it("excludes the account's passkeys, adds the new one, and lets it sign in", async () => {
    const ada = await signUp();
    const start = await expectStatus<{ flowId: string; options: CreationOptions }>(
      await api("POST", "/v1/me/passkeys/options", { token: ada.accessToken }),
      200,
    );
    expect(start.options.excludeCredentials?.map((credential) => credential.id)).toEqual([ada.authenticator.credentialId]);
    expect(start.options.user.name).toBe(ada.user.username);
    expect(start.options.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });

    const laptop = await SoftwareAuthenticator.create();
    const response = await laptop.register(start.options);
    const res = await api("POST", "/v1/me/passkeys/verify", {
      token: ada.accessToken,
      body: { flowId: start.flowId, response, name: "Laptop" },
    });
    const added = await expectStatus<PasskeyBody>(res, 201);
    expect(added).toMatchObject({ id: laptop.credentialId, name: "Laptop", lastUsedAt: null });
    expect((await listOf(ada.accessToken)).map((passkey) => passkey.id)).toEqual([
      ada.authenticator.credentialId,
      laptop.credentialId,
    ]);

    const viaLaptop = await signIn(laptop);
    expect(viaLaptop.user.id).toBe(ada.user.id);
    const events = await eventsOf(ada.user.id, "passkey.add");
    expect(events.map((event) => [event.resource, event.result, event.actor])).toEqual([
      [`passkey:${laptop.credentialId}`, "success", ada.user.id],
    ]);
  });

  it("refuses a credential that is already registered (409)", async () => {
    const ada = await signUp();
    await expectProblem(await addPasskey(ada.accessToken, ada.authenticator), 409, "CONFLICT");
    const bob = await signUp();
    await expectProblem(await addPasskey(bob.accessToken, ada.authenticator), 409, "CONFLICT");
    expect(await listOf(bob.accessToken)).toHaveLength(1);
  });

  it("refuses a flow started by another user, a reused flow and a bad response (400)", async () => {
    const ada = await signUp();
    const eve = await signUp();
    const start = await expectStatus<{ flowId: string; options: CreationOptions }>(
      await api("POST", "/v1/me/passkeys/options", { token: ada.accessToken }),
      200,
    );
    const key = await SoftwareAuthenticator.create();
    const response = await key.register(start.options);
    const verify = (token: string) => api("POST", "/v1/me/passkeys/verify", { token, body: { flowId: start.flowId, response } });
    await expectProblem(await verify(eve.accessToken), 400, "BAD_REQUEST");
    await expectStatus(await verify(ada.accessToken), 201);
    await expectProblem(await verify(ada.accessToken), 400, "BAD_REQUEST");

    const other = await SoftwareAuthenticator.create();
    await expectProblem(
      await addPasskey(ada.accessToken, other, { knobs: { origin: "https://evil.example" } }),
      400,
      "BAD_REQUEST",
    );
    await expectProblem(await addPasskey(ada.accessToken, other, { knobs: { userVerified: false } }), 400, "BAD_REQUEST");
    expect(await listOf(ada.accessToken)).toHaveLength(2);
  });

  it("needs a signed-in user (401 without a token)", async () => {
    await expectProblem(await api("POST", "/v1/me/passkeys/options"), 401, "UNAUTHENTICATED");
    await expectProblem(await api("POST", "/v1/me/passkeys/verify", { body: {} }), 401, "UNAUTHENTICATED");
  });
});

describe("PATCH /v1/me/passkeys/:id", () => {
  it("renames the passkey and audits it", async () => {
    const ada = await signUp();
    const path = `/v1/me/passkeys/${ada.authenticator.credentialId}`;
    const renamed = await expectStatus<PasskeyBody>(
      await api("PATCH", path, { token: ada.accessToken, body: { name: "  Work phone " } }),
      200,
    );
    expect(renamed).toMatchObject({ id: ada.authenticator.credentialId, name: "Work phone" });
    expect((await listOf(ada.accessToken))[0]?.name).toBe("Work phone");
    expect(await eventsOf(ada.user.id, "passkey.rename")).toHaveLength(1);
  });

  it("answers 400 for an invalid name or unknown fields, 404 for an unknown id", async () => {
    const ada = await signUp();
    const path = `/v1/me/passkeys/${ada.authenticator.credentialId}`;
    await expectProblem(await api("PATCH", path, { token: ada.accessToken, body: { name: " " } }), 400, "VALIDATION_FAILED");
    await expectProblem(
      await api("PATCH", path, { token: ada.accessToken, body: { name: "x".repeat(65) } }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(
      await api("PATCH", path, { token: ada.accessToken, body: { name: "ok", counter: 0 } }),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(
      await api("PATCH", "/v1/me/passkeys/AAAAAAAAAAAAAAAAAAAAAA", { token: ada.accessToken, body: { name: "ok" } }),
      404,
      "NOT_FOUND",
    );
  });
});

describe("DELETE /v1/me/passkeys/:id", () => {
  it("removes a passkey, which then cannot sign in, and audits it", async () => {
    const ada = await signUp();
    const laptop = await SoftwareAuthenticator.create();
    await expectStatus(await addPasskey(ada.accessToken, laptop), 201);
    const res = await api("DELETE", `/v1/me/passkeys/${laptop.credentialId}`, { token: ada.accessToken });
    expect(res.status).toBe(204);
    expect((await listOf(ada.accessToken)).map((passkey) => passkey.id)).toEqual([ada.authenticator.credentialId]);
    await expectProblem(await attemptSignIn(laptop), 401, "UNAUTHENTICATED");
    const [event] = await eventsOf(ada.user.id, "passkey.remove");
    expect(event).toMatchObject({ resource: `passkey:${laptop.credentialId}`, result: "success", actor: ada.user.id });
  });

  it("removes the last passkey while unused recovery codes remain", async () => {
    const ada = await signUp();
    const res = await api("DELETE", `/v1/me/passkeys/${ada.authenticator.credentialId}`, { token: ada.accessToken });
    expect(res.status).toBe(204);
    expect(await listOf(ada.accessToken)).toEqual([]);
  });

  it("refuses to remove the last passkey when no unused recovery code remains (409)", async () => {
    const ada = await signUp();
    await db.update(recoveryCodes).set({ usedAt: new Date() }).where(eq(recoveryCodes.userId, ada.user.id));
    const res = await api("DELETE", `/v1/me/passkeys/${ada.authenticator.credentialId}`, { token: ada.accessToken });
    await expectProblem(res, 409, "CONFLICT");
    expect(await listOf(ada.accessToken)).toHaveLength(1);
    expect(await eventsOf(ada.user.id, "passkey.remove")).toEqual([]);
  });

  it("lets only one of two concurrent removals of the last two passkeys through", async () => {
    const ada = await signUp();
    const laptop = await SoftwareAuthenticator.create();
    await expectStatus(await addPasskey(ada.accessToken, laptop), 201);
    await db.update(recoveryCodes).set({ usedAt: new Date() }).where(eq(recoveryCodes.userId, ada.user.id));
    const statuses = await Promise.all(
      [ada.authenticator.credentialId, laptop.credentialId].map(async (id) => {
        const res = await api("DELETE", `/v1/me/passkeys/${id}`, { token: ada.accessToken });
        return res.status;
      }),
    );
    expect(statuses.sort()).toEqual([204, 409]);
    expect(await listOf(ada.accessToken)).toHaveLength(1);
  });
});
