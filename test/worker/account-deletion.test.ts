/**
 * Account deletion end to end: a user with something in every place Pulse keeps data confirms the
 * deletion with their passkey, the job runs (failing once midway and resuming), and then every D1
 * table, every R2 object and the user's Durable Object are scanned for anything of them. Also the
 * confirmation ceremony at its edges: another user's passkey or flow, an expired or used flow.
 */
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { pseudonymOf } from "../../src/audit/pseudonym";
import { verifySecurityChain } from "../../src/audit/verify-security-chain";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import {
  accountDeletions,
  auditSeals,
  authFlows,
  exports as exportRows,
  grantInvitations,
  grants,
  passkeys,
  securityEvents,
  type UserRow,
  uploads,
  users,
} from "../../src/db/schema";
import { runAccountDeletion } from "../../src/deletion/job";
import { resumeAccountDeletionsJob } from "../../src/deletion/resume";
import { saveConnection } from "../../src/providers/connections";
import { tokenKeyringFor } from "../../src/providers/tokens";
import { ledgerShard, loadWebhookEvents, settleWebhookEvents, storeQueuedDeliveries } from "../../src/providers/webhooks/events";
import { handleQueueBatch, QUEUES } from "../../src/queues/consumer";
import { createUpload } from "../../src/uploads/create-upload";
import { acceptCurrentConsent } from "./helpers/consent";
import { dpopHeaders, generateDeviceKey } from "./helpers/dpop";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import type { SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";
import { storedCounts, uploadOk, waitForUpload } from "./helpers/upload-api";
import { SAMPLES, sampleBytes } from "./helpers/upload-files";
import { attemptSignIn, type RequestOptions, type SignedUpUser, signUp, uniqueIp } from "./helpers/users";

const app = createTestApp();
const db = getDb(env.DB);
const SYSTEM = { actor: "test", role: "system", reason: null, requestId: null, ip: null } as const;

/** What the app enqueued on SYNC: the deletion job is run by the test itself, never concurrently. */
let queued: unknown[] = [];
const SYNC = {
  async send(body: unknown) {
    queued.push(body);
  },
  async sendBatch(messages: Iterable<{ body: unknown }>) {
    for (const message of messages) queued.push(message.body);
  },
} as unknown as Queue;

afterEach(() => {
  queued = [];
  vi.restoreAllMocks();
});

function request(user: SignedUpUser, method: string, path: string, body?: unknown, token = user.accessToken): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "CF-Connecting-IP": user.ip };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return call(app, path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, { SYNC });
}

async function deletionOptions(user: SignedUpUser): Promise<{ flowId: string; options: RequestOptions }> {
  const res = await request(user, "POST", "/v1/me/deletion/options");
  expect(res.status).toBe(200);
  return res.json();
}

async function confirm(user: SignedUpUser, flowId: string, response: unknown): Promise<Response> {
  return request(user, "POST", "/v1/me/deletion/verify", { flowId, response });
}

/** The signed-up user as the upload helpers take it. */
async function asSessionUser(user: SignedUpUser): Promise<SessionUser> {
  const [row] = await db.select().from(users).where(eq(users.id, user.user.id));
  if (!row) throw new Error("user not stored");
  return {
    user: row as UserRow,
    accessToken: user.accessToken,
    refreshToken: user.refreshToken,
    sessionId: user.sessionId,
    headers: { Authorization: `Bearer ${user.accessToken}`, "CF-Connecting-IP": user.ip },
  };
}

const VAULT_BLOB = {
  version: 2,
  kdf: "PBKDF2",
  hash: "SHA-256",
  iterations: 600_000,
  salt: "q83vEjRWeJCrze8SNFZ4kA==",
  cipher: "AES-256-GCM",
  iv: "AQIDBAUGBwgJCgsM",
  ciphertext: "2IDK/HJO5ym8bHXUh1s77otj8QxMQp9pdMxGf3S+WvgD4WYgVlYweRwceyk2epiRY7w=",
};

/** Gives `ada` something in every place Pulse keeps data; returns what names her. */
async function populate(ada: SignedUpUser, other: SignedUpUser) {
  const userId = ada.user.id;
  const now = new Date();
  const day = 86_400_000;

  // A device credential.
  const key = await generateDeviceKey();
  const enrolled = await request(ada, "POST", "/v1/me/devices", { name: "Ada's phone", publicJwk: key.publicJwk });
  expect(enrolled.status).toBe(201);
  const { credential } = await enrolled.json<{ credential: string }>();
  // Its use (and its DPoP key) recorded in her AuthActivity: authenticated, the upload is not found.
  const statusPath = `/v1/uploads/upl_${"a".repeat(26)}`;
  const used = await call(app, statusPath, {
    headers: { ...(await dpopHeaders(key, credential, "GET", `http://localhost${statusPath}`)), "CF-Connecting-IP": uniqueIp() },
  });
  expect(used.status).toBe(404);

  // Uploads through the real route and ingest queue: raw objects, observations, sleep and lake parts.
  const session = await asSessionUser(ada);
  for (const sample of [SAMPLES.HeartRate, SAMPLES.SleepSession]) {
    const receipt = await uploadOk(app, session, sampleBytes(sample));
    expect((await waitForUpload(app, session, receipt.uploadId)).status).toBe("completed");
  }
  expect((await env.LAKE.list({ prefix: `raw/${userId}/` })).objects.length).toBe(2);

  // A vault blob in the HealthStore.
  const vault = await request(ada, "PUT", "/v1/vault/note-1", VAULT_BLOB);
  expect(vault.status).toBeLessThan(300);

  // Consent, a grant given and one received, an open invitation.
  await acceptCurrentConsent(userId);
  const invitation = (patientId: string) => ({
    id: newId("inv"),
    patientId,
    role: "clinician" as const,
    categories: ["heart"],
    grantExpiresAt: new Date(now.getTime() + 30 * day),
    // Her own invitations' notes name her; the other patient's text is theirs and stays.
    note: patientId === userId ? `from ${ada.user.displayName}` : "for my clinician",
    codeHash: crypto.randomUUID(),
    codeExpiresAt: new Date(now.getTime() + 7 * day),
    createdAt: now,
  });
  const given = invitation(userId);
  const received = invitation(other.user.id);
  const open = invitation(userId);
  await db.insert(grantInvitations).values([given, received, open]);
  const grant = (invitationId: string, patientId: string, granteeId: string) => ({
    id: newId("grt"),
    invitationId,
    patientId,
    granteeId,
    role: "clinician" as const,
    categories: ["heart"],
    expiresAt: new Date(now.getTime() + 30 * day),
    createdAt: now,
  });
  await db.insert(grants).values([grant(given.id, userId, other.user.id), grant(received.id, other.user.id, userId)]);

  // An export archive.
  const exportId = newId("exp");
  const exportKey = `exports/${userId}/${exportId}.zip`;
  await env.LAKE.put(exportKey, JSON.stringify({ userId, displayName: ada.user.displayName }));
  await db.insert(exportRows).values({
    id: exportId,
    userId,
    status: "completed",
    r2Key: exportKey,
    byteSize: 10,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 7 * day),
  });

  // A provider connection with a stored webhook delivery.
  const providerUserId = `sbx-${crypto.randomUUID()}`;
  const keyring = await tokenKeyringFor(getConfig(env));
  const connection = await saveConnection(
    { db, keyring },
    {
      userId,
      provider: "sandbox",
      providerUserId,
      tokens: { accessToken: "sandbox-access", refreshToken: "sandbox-refresh", accessTokenExpiresAt: null, scopes: null },
    },
    SYSTEM,
  );
  // Stored as the webhook job stores it: a row in its ledger shard, resolved to her, and its payload.
  const dedupKey = crypto.randomUUID();
  const eventId = `${newId("whe")}_${ledgerShard("sandbox", dedupKey)}`;
  const payload = JSON.stringify({ user_id: providerUserId, data_type: "heart_rate" });
  const rows = await storeQueuedDeliveries(
    env,
    [
      {
        type: "provider.webhook",
        provider: "sandbox",
        webhookEventId: eventId,
        delivery: {
          dedupKey,
          eventType: "heart_rate.updated",
          authenticity: "signed",
          hints: [{ providerUserId, dataType: "heart_rate", operation: "upsert" }],
          receivedAt: now.toISOString(),
          payload: btoa(payload),
          contentType: "application/json",
        },
      },
    ],
    now,
  );
  const event = rows.get(eventId);
  if (!event) throw new Error("no webhook event stored");
  await env.LAKE.put(event.r2Key, payload);
  await settleWebhookEvents(env, [{ id: eventId, status: "processed", userId, connectionId: connection.id }], now);

  // Sealed chunks of her HealthStore chain.
  const sealKey = `audit/${userId}/1-3.json`;
  await env.LAKE.put(sealKey, JSON.stringify([{ seq: 1, subject: userId }]));
  await db.insert(auditSeals).values({
    chain: userId,
    firstSeq: 1,
    lastSeq: 3,
    r2Key: sealKey,
    contentHash: "0".repeat(64),
    lastEventHash: "1".repeat(64),
    prevSealHash: "2".repeat(64),
    sealHash: "3".repeat(64),
    sealedAt: now,
  });

  // A pending alarm: deleting the store must remove it too.
  await runInDurableObject(healthStoreFor(env.HEALTH_STORE, userId).stub, (_instance, state) =>
    state.storage.setAlarm(Date.now() + 365 * day),
  );

  const [passkey] = await db.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.userId, userId));
  if (!passkey) throw new Error("no passkey");
  return {
    device: { key, credential, id: credential.split(".")[0] ?? "" },
    credentialId: passkey.id,
    providerUserId,
    webhookEventId: eventId,
  };
}

/** Every row of every D1 table, as text, with its table name. */
async function allD1Rows(): Promise<{ table: string; text: string }[]> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>();
  const rows: { table: string; text: string }[] = [];
  for (const { name } of tables.results) {
    if (name.startsWith("sqlite_") || name.startsWith("_cf_")) continue;
    const result = await env.DB.prepare(`SELECT * FROM "${name}"`).all<Record<string, unknown>>();
    for (const row of result.results) rows.push({ table: name, text: JSON.stringify(row) });
  }
  return rows;
}

/** Every R2 object: its key and its body as text (gzip-encoded lake parts decompressed). */
async function allR2Objects(): Promise<{ key: string; text: string }[]> {
  const objects: { key: string; text: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LAKE.list({ limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    for (const listed of page.objects) {
      const object = await env.LAKE.get(listed.key);
      if (object === null) continue;
      let body: ReadableStream = object.body;
      if (object.httpMetadata?.contentEncoding === "gzip") body = body.pipeThrough(new DecompressionStream("gzip"));
      objects.push({ key: listed.key, text: new TextDecoder().decode(await new Response(body).arrayBuffer()) });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return objects;
}

describe("account deletion: the sweep", () => {
  it("leaves nothing of the user in D1, R2 or their Durable Object, and the security chain still verifies", async () => {
    const ada = await signUp({ displayName: `Ada ${crypto.randomUUID()}` });
    const other = await signUp();
    const userId = ada.user.id;
    const { device, credentialId, providerUserId, webhookEventId } = await populate(ada, other);
    expect(await loadWebhookEvents(env, [webhookEventId])).toHaveLength(1);
    const needles = [userId, ada.user.username, ada.user.displayName, credentialId, providerUserId];
    expect((await allD1Rows()).some((row) => needles.some((needle) => row.text.includes(needle)))).toBe(true);
    // Before: her objects under every prefix the job must clear, and data in her store.
    const before = (await allR2Objects()).filter((object) =>
      needles.some((needle) => object.key.includes(needle) || object.text.includes(needle)),
    );
    for (const prefix of ["raw/", "exports/", "audit/", "webhooks/", "lake/heart_rate/", "lake/sleep/"]) {
      expect(
        before.some((object) => object.key.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
    expect(await storedCounts(userId)).toMatchObject({ observations: expect.any(Number), sleepSessions: 1 });
    expect(Object.keys(await env.AUTH_ACTIVITY.getByName(userId).devicesLastUsed([device.id]))).toEqual([device.id]);

    // The sandbox provider is told to revoke the connection.
    const revoked: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      revoked.push(new URL(req.url).pathname);
      return new Response(null, { status: 200 });
    });

    // The ceremony.
    const { flowId, options } = await deletionOptions(ada);
    expect(options.allowCredentials?.map((allowed) => allowed.id)).toEqual([credentialId]);
    expect(options.userVerification).toBe("required");
    const accepted = await confirm(ada, flowId, await ada.authenticator.authenticate(options));
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toMatchObject({ status: "deleting", requestedAt: expect.any(String) });
    expect(queued).toEqual([{ type: "account.delete", userId }]);

    // Every credential stops working at once.
    await expectProblem(await request(ada, "GET", "/v1/me"), 401, "UNAUTHENTICATED");
    const refreshed = await call(app, "/v1/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": uniqueIp() },
      body: JSON.stringify({ refreshToken: ada.refreshToken }),
    });
    expect(refreshed.status).toBe(401);
    const proof = await dpopHeaders(device.key, device.credential, "GET", "http://localhost/v1/uploads");
    expect((await call(app, "/v1/uploads", { headers: { ...proof, "CF-Connecting-IP": uniqueIp() } })).status).toBe(401);
    expect((await attemptSignIn(ada.authenticator)).status).toBe(401);

    // The job stops at a checkpoint inside the lake step, then fails once at the store, and resumes
    // each time after the last progress it recorded.
    const pseudonym = await pseudonymOf(getConfig(env).AUDIT_PSEUDONYM_KEY, userId);
    const stepOf = async () =>
      (await db.select().from(accountDeletions).where(eq(accountDeletions.pseudonym, pseudonym)))[0]?.step;
    const steps: string[] = [];
    const lakeBefore = (await env.LAKE.list({ prefix: "lake/" })).objects.filter((object) => object.key.includes(userId));
    expect(lakeBefore.length).toBeGreaterThan(1);
    expect(await runAccountDeletion(env, userId, { lakePartitionsPerRun: 1, beforeStep: (step) => void steps.push(step) })).toBe(
      "continued",
    );
    expect(await stepOf()).toMatch(/^lake@[a-z_]+\/\d{4}-\d{2}-\d{2}$/);
    const lakeBetween = (await env.LAKE.list({ prefix: "lake/" })).objects.filter((object) => object.key.includes(userId));
    expect(lakeBetween.length).toBeLessThan(lakeBefore.length);
    expect(lakeBetween.length).toBeGreaterThan(0);
    await expect(
      runAccountDeletion(env, userId, {
        beforeStep: (step) => {
          steps.push(step);
          if (step === "store") throw new Error("injected failure");
        },
      }),
    ).rejects.toThrow("injected failure");
    expect(await stepOf()).toBe("lake");
    const resumed: string[] = [];
    expect(await runAccountDeletion(env, userId, { beforeStep: (step) => void resumed.push(step) })).toBe("completed");
    expect(steps).toEqual(["providers", "sharing", "exports", "uploads", "lake", "lake", "store"]);
    expect(resumed).toEqual([
      "store",
      "sealed_audit",
      "account_rows",
      "store_sweep",
      "sealed_audit_sweep",
      "auth_activity",
      "security_events",
      "finish",
    ]);
    expect(await runAccountDeletion(env, userId)).toBe("already_completed");
    expect(revoked).toContain("/oauth/revoke");

    // D1: no row of any table names her.
    const leftovers = (await allD1Rows()).filter((row) => needles.some((needle) => row.text.includes(needle)));
    expect(leftovers).toEqual([]);
    const [record] = await db.select().from(accountDeletions).where(eq(accountDeletions.pseudonym, pseudonym));
    expect(record).toMatchObject({ step: "done", completedAt: expect.any(Date) });
    // The other user's own grant and invitation are untouched; the chain keeps a pseudonymous record.
    expect(await db.select().from(grantInvitations).where(eq(grantInvitations.patientId, other.user.id))).toHaveLength(1);
    const [last] = await db.select().from(securityEvents).where(eq(securityEvents.actor, pseudonym));
    expect(last).toMatchObject({ action: "account.delete", subject: pseudonym, role: "system" });
    const erased = await db.select().from(securityEvents).where(eq(securityEvents.action, "account.delete_request"));
    expect(erased.some((event) => event.erasedAt !== null && event.salt === null && event.actor.startsWith("c:"))).toBe(true);
    expect(await verifySecurityChain(db)).toMatchObject({ ok: true });

    // The webhook ledger: her stored delivery is gone from its shard.
    expect(await loadWebhookEvents(env, [webhookEventId])).toEqual([]);

    // R2: no key and no body names her.
    const objects = await allR2Objects();
    expect(
      objects.filter((object) => needles.some((needle) => object.key.includes(needle) || object.text.includes(needle))),
    ).toEqual([]);

    // Her Durable Object holds no table with rows, and no alarm.
    await runInDurableObject(healthStoreFor(env.HEALTH_STORE, userId).stub, async (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray();
      for (const { name } of tables) {
        if (name === "_migrations") continue;
        expect(state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).one().n, name).toBe(0);
      }
      expect(await state.storage.getAlarm()).toBeNull();
    });

    // Her AuthActivity holds nothing either: no table, no alarm.
    await runInDurableObject(env.AUTH_ACTIVITY.getByName(userId), async (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray();
      expect(tables).toEqual([]);
      expect(await state.storage.getAlarm()).toBeNull();
    });

    // The deleted passkey signs nobody in, and the user row is gone.
    expect((await attemptSignIn(ada.authenticator)).status).toBe(401);
    expect(await db.select().from(users).where(eq(users.id, userId))).toEqual([]);
  });
});

describe("account deletion: an upload in flight", () => {
  it("keeps nothing of a file whose upload was still arriving when the deletion ran", async () => {
    const ada = await signUp();
    const userId = ada.user.id;
    const bytes = sampleBytes(SAMPLES.HeartRate);
    const half = Math.floor(bytes.byteLength / 2);
    const ingest: unknown[] = [];
    const INGEST = { send: async (body: unknown) => void ingest.push(body) } as unknown as Queue;
    // The device sends the first half; the person confirms the deletion and the job gets past the
    // uploads, the lake and the store before the second half arrives.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) {
          controller.enqueue(bytes.subarray(0, half));
          sent = 1;
          return;
        }
        const { flowId, options } = await deletionOptions(ada);
        expect((await confirm(ada, flowId, await ada.authenticator.authenticate(options))).status).toBe(202);
        await expect(
          runAccountDeletion(env, userId, {
            beforeStep: (step) => {
              if (step === "sealed_audit") throw new Error("interrupted after the store");
            },
          }),
        ).rejects.toThrow("interrupted");
        controller.enqueue(bytes.subarray(half));
        controller.close();
      },
    });
    const audit = { actor: userId, role: "patient", reason: null, requestId: null, ip: null } as const;
    await expect(
      createUpload({ db, env: { ...env, INGEST } }, { userId, deviceId: null, fileName: null, body, length: null, audit }),
    ).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    expect(ingest).toEqual([]);
    expect(await db.select().from(uploads).where(eq(uploads.userId, userId))).toEqual([]);
    expect((await env.LAKE.list({ prefix: `raw/${userId}/` })).objects).toEqual([]);
    // The store the job emptied stays empty.
    await runInDurableObject(healthStoreFor(env.HEALTH_STORE, userId).stub, async (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray();
      for (const { name } of tables) {
        if (name === "_migrations") continue;
        expect(state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${name}"`).one().n, name).toBe(0);
      }
    });
    expect(await runAccountDeletion(env, userId)).toBe("completed");
  });

  it("sweeps the store and R2 again at the end: a write that landed after the store was emptied does not outlive the job", async () => {
    const ada = await signUp();
    const userId = ada.user.id;
    const { flowId, options } = await deletionOptions(ada);
    expect((await confirm(ada, flowId, await ada.authenticator.authenticate(options))).status).toBe(202);
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    const late = {
      actor: "system:upload.ingest",
      role: "system",
      reason: null,
      requestId: null,
      ip: null,
      subject: userId,
    } as const;
    expect(
      await runAccountDeletion(env, userId, {
        beforeStep: async (step) => {
          // An ingest chunk that was already running writes after the store step emptied the store,
          // and its seal alarm fires at once.
          if (step !== "account_rows") return;
          await store.ingest([observationInput("heart_rate", "bpm", Date.UTC(2026, 10, 1), 61)], late);
          await runDurableObjectAlarm(store.stub);
        },
      }),
    ).toBe("completed");
    await runInDurableObject(store.stub, async (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray();
      expect(tables).toEqual([]);
      expect(await state.storage.getAlarm()).toBeNull();
    });
    expect((await env.LAKE.list({ prefix: `audit/${userId}/` })).objects).toEqual([]);
    expect(await db.select().from(auditSeals).where(eq(auditSeals.chain, userId))).toEqual([]);
  });
});

describe("account deletion: the confirmation ceremony", () => {
  it("refuses another user's passkey, and leaves the account working", async () => {
    const ada = await signUp();
    const mallory = await signUp();
    const { flowId, options } = await deletionOptions(ada);
    await expectProblem(await confirm(ada, flowId, await mallory.authenticator.authenticate(options)), 403, "FORBIDDEN");
    expect((await request(ada, "GET", "/v1/me")).status).toBe(200);
    expect(queued).toEqual([]);
    const trail = await db.select().from(securityEvents).where(eq(securityEvents.subject, ada.user.id));
    expect(trail.filter((event) => event.action === "account.delete_request")).toMatchObject([
      { result: "failure", reason: "not one of the account's passkeys", resource: "passkey:unknown" },
    ]);
  });

  it("refuses another user's flow id, which stays usable by its owner only", async () => {
    const ada = await signUp();
    const bob = await signUp();
    const bobs = await deletionOptions(bob);
    await expectProblem(await confirm(ada, bobs.flowId, await ada.authenticator.authenticate(bobs.options)), 403, "FORBIDDEN");
    expect((await request(ada, "GET", "/v1/me")).status).toBe(200);
    // Not consumed by the stranger: its owner can still complete it.
    const own = await confirm(bob, bobs.flowId, await bob.authenticator.authenticate(bobs.options));
    expect(own.status).toBe(202);
    expect(queued).toEqual([{ type: "account.delete", userId: bob.user.id }]);
  });

  it("refuses an expired flow (older than 5 minutes)", async () => {
    const ada = await signUp();
    const { flowId, options } = await deletionOptions(ada);
    await db
      .update(authFlows)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(authFlows.id, flowId));
    await expectProblem(await confirm(ada, flowId, await ada.authenticator.authenticate(options)), 403, "FORBIDDEN");
    expect((await request(ada, "GET", "/v1/me")).status).toBe(200);
  });

  it("uses a flow once: a replayed or concurrent confirmation is refused", async () => {
    const ada = await signUp();
    const mallory = await signUp();
    const first = await deletionOptions(ada);
    // A failed attempt burns the challenge; the genuine assertion for it then fails too.
    await expectProblem(
      await confirm(ada, first.flowId, await mallory.authenticator.authenticate(first.options)),
      403,
      "FORBIDDEN",
    );
    await expectProblem(await confirm(ada, first.flowId, await ada.authenticator.authenticate(first.options)), 403, "FORBIDDEN");

    const second = await deletionOptions(ada);
    const assertion = await ada.authenticator.authenticate(second.options);
    const answers = await Promise.all([confirm(ada, second.flowId, assertion), confirm(ada, second.flowId, assertion)]);
    expect(answers.map((res) => res.status).sort()).toEqual([202, 403]);
    expect(queued).toHaveLength(1);
    // After the deletion, the replay meets a revoked session.
    expect((await confirm(ada, second.flowId, assertion)).status).toBe(401);
  });

  it("queues one job when two confirmations with two flows race", async () => {
    const ada = await signUp();
    const flows = await Promise.all([deletionOptions(ada), deletionOptions(ada)]);
    const assertions = await Promise.all(flows.map((flow) => ada.authenticator.authenticate(flow.options)));
    const answers = await Promise.all(flows.map((flow, i) => confirm(ada, flow.flowId, assertions[i])));
    const statuses = answers.map((res) => res.status);
    expect(statuses).toContain(202);
    for (const status of statuses) expect([202, 401]).toContain(status);
    expect(queued).toEqual([{ type: "account.delete", userId: ada.user.id }]);
  });

  it("answers DELETE /v1/me with a problem pointing to the ceremony, and deletes nothing", async () => {
    const ada = await signUp();
    const res = await request(ada, "DELETE", "/v1/me");
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({
      code: "BAD_REQUEST",
      optionsUrl: "/v1/me/deletion/options",
      verifyUrl: "/v1/me/deletion/verify",
    });
    expect((await request(ada, "GET", "/v1/me")).status).toBe(200);
  });

  it("refuses malformed confirmations with 400, never a 500", async () => {
    const ada = await signUp();
    for (const body of [
      {},
      { flowId: "x" },
      { flowId: "x", response: { id: "!" } },
      { flowId: "x".repeat(10_000), response: {} },
    ]) {
      const res = await request(ada, "POST", "/v1/me/deletion/verify", body);
      expect(res.status).toBe(400);
    }
    expect((await request(ada, "GET", "/v1/me")).status).toBe(200);
  });

  it("runs from the SYNC queue, and the daily sweep queues a deletion left unfinished", async () => {
    const ada = await signUp();
    const { flowId, options } = await deletionOptions(ada);
    expect((await confirm(ada, flowId, await ada.authenticator.authenticate(options))).status).toBe(202);
    const [message] = queued;

    // The message was lost: an hour later the sweep queues it again.
    queued = [];
    await resumeAccountDeletionsJob.run({ ...env, SYNC }, new Date(Date.now() + 2 * 60 * 60 * 1000));
    expect(queued).toContainEqual(message);

    const batch = createMessageBatch<unknown>(QUEUES.sync, [{ id: "m1", timestamp: new Date(), attempts: 1, body: message }]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m1"]);
    expect(await db.select().from(users).where(eq(users.id, ada.user.id))).toEqual([]);
  });

  it("ignores a job message for an account nobody asked to delete", async () => {
    const ada = await signUp();
    expect(await runAccountDeletion(env, ada.user.id)).toBe("unknown");
    expect((await request(ada, "GET", "/v1/me")).status).toBe(200);
  });
});
