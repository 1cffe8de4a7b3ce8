/**
 * The whole story of sharing, export and deletion, as a patient, a clinician and an auditor live it
 * on `npm run dev` (README "Sharing, export and deletion"): real routes, the real upload ingest, the
 * export and deletion jobs run through the real SYNC queue consumer, roles granted with the SQL of
 * `npm run admin:grant`, and the patient's passkey saved and restored as `dev:signup --save` and
 * `dev:delete-account` do. Each step asserts what the person at that step would see.
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
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { grantRoleSql, lookupStatements } from "../../scripts/grant-admin-sql.mjs";
import { forgetUserSessions } from "../../src/auth/session-cache";
import { getDb } from "../../src/db/client";
import { type UserRow, users } from "../../src/db/schema";
import { handleQueueBatch, QUEUES } from "../../src/queues/consumer";
import { SoftwareAuthenticator } from "./helpers/authenticator";
import { expectProblem } from "./helpers/security-cases";
import type { SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";
import { uploadOk, waitForUpload } from "./helpers/upload-api";
import { SAMPLES, sampleBytes } from "./helpers/upload-files";
import { attemptSignIn, expectStatus, type RequestOptions, type SignedUpUser, signIn, signUp } from "./helpers/users";

const app = createTestApp();
const db = getDb(env.DB);
const DAY_MS = 86_400_000;
const decoder = new TextDecoder();

/** The SYNC queue as the app sees it: messages are kept and run by `drainSync` through the consumer. */
let queued: unknown[] = [];
const SYNC = {
  async send(body: unknown) {
    queued.push(body);
  },
  async sendBatch(messages: Iterable<{ body: unknown }>) {
    for (const message of messages) queued.push(message.body);
  },
} as unknown as Queue;

/** Runs what was queued through the real SYNC consumer (jobs may queue more); every message acked. */
async function drainSync(): Promise<void> {
  for (let round = 0; queued.length > 0; round++) {
    if (round > 20) expect.fail("the SYNC queue never drained");
    const bodies = queued;
    queued = [];
    const batch = createMessageBatch<unknown>(
      QUEUES.sync,
      bodies.map((body, i) => ({ id: `m${round}-${i}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(bodies.length);
  }
}

interface Person {
  signedUp: SignedUpUser;
  token: string;
  id: string;
}

function request(person: Person, method: string, path: string, options: { body?: unknown; reason?: string } = {}) {
  const headers: Record<string, string> = { Authorization: `Bearer ${person.token}`, "CF-Connecting-IP": person.signedUp.ip };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.reason !== undefined) headers["X-Access-Reason"] = options.reason;
  const body = options.body === undefined ? {} : { body: JSON.stringify(options.body) };
  return call(app, path, { method, headers, ...body }, { SYNC });
}

async function person(displayName: string, extractable = false): Promise<Person> {
  const signedUp = await signUp({ displayName, authenticator: { extractable } });
  return { signedUp, token: signedUp.accessToken, id: signedUp.user.id };
}

/** `npm run admin:grant -- <username> --role <role>`: the script's own statements, on this D1. */
async function grantRole(who: Person, role: string): Promise<void> {
  const run = async (statements: string[]) =>
    (await env.DB.batch(statements.map((statement) => env.DB.prepare(statement)))).map((result) => result.results);
  const [found, tail] = await run(lookupStatements(who.signedUp.user.username));
  const user = found?.[0] as { id: string; role: string };
  const { statements } = await grantRoleSql({ user, tail: (tail?.[0] as { seq: number; hash: string }) ?? null, role });
  await run(statements);
  // The script writes D1 from outside the Worker: a running isolate sees the new role once its
  // session cache entry expires (SESSION_CACHE_TTL_MS, 5 s). The test does not wait that long.
  forgetUserSessions(who.id);
}

async function asSessionUser(who: Person): Promise<SessionUser> {
  const [row] = await db.select().from(users).where(eq(users.id, who.id));
  if (!row) throw new Error("user not stored");
  const headers = { Authorization: `Bearer ${who.token}`, "CF-Connecting-IP": who.signedUp.ip };
  return { user: row as UserRow, accessToken: who.token, refreshToken: who.signedUp.refreshToken, sessionId: "", headers };
}

interface AccessLogItem {
  seq: number;
  who: { kind: string; label: string; role?: string; displayName?: string };
  action: string;
  description: string;
  categories: string[];
  reason: string | null;
  result: string;
}

interface Verification {
  ok: boolean;
  chain: string;
  chunksChecked: number;
  firstBroken?: { seq: number; problem: string; chunk?: string };
}

describe("sharing, export and deletion, end to end", () => {
  it("a patient shares, sees the reads, revokes, exports, is verified and deletes the account", async () => {
    // The patient signs up; the passkey is one that can be saved to a file, as dev:signup --save does.
    const ada = await person("Ada", true);
    const okafor = await person("Dr Okafor");
    const audrey = await person("Audrey");

    // She accepts the current terms and privacy notice: without them she cannot invite.
    const early = await request(ada, "POST", "/v1/me/grants/invitations", {
      body: { role: "clinician", categories: ["vitals"], expiresAt: new Date(Date.now() + DAY_MS).toISOString() },
    });
    await expectProblem(early, 403, "CONSENT_REQUIRED");
    const status = await expectStatus<{ current: Record<"terms" | "privacy", { version: string }> }>(
      await request(ada, "GET", "/v1/me/consents"),
      200,
    );
    for (const document of ["terms", "privacy"] as const) {
      const accepted = await request(ada, "POST", "/v1/me/consents", {
        body: { document, version: status.current[document].version },
      });
      expect(accepted.status).toBe(201);
    }

    // Her data: heart rate, sleep and glucose exports, ingested by the real pipeline.
    const session = await asSessionUser(ada);
    for (const sample of [SAMPLES.HeartRate, SAMPLES.SleepSession, SAMPLES.BloodGlucose]) {
      const receipt = await uploadOk(app, session, sampleBytes(sample));
      expect((await waitForUpload(app, session, receipt.uploadId)).status).toBe("completed");
    }
    const latest = await expectStatus<{ items: { metric: string; start: string }[] }>(
      await request(ada, "GET", "/v1/observations/latest?metrics=heart_rate"),
      200,
    );
    const newest = Date.parse(latest.items[0]?.start ?? "");
    expect(Number.isFinite(newest)).toBe(true);
    const since = new Date(newest - 7 * DAY_MS).toISOString();
    const until = new Date(newest + DAY_MS).toISOString();

    // An invitation for a clinician: vitals and sleep, for 30 days.
    const invitation = await expectStatus<{ id: string; code: string }>(
      await request(ada, "POST", "/v1/me/grants/invitations", {
        body: {
          role: "clinician",
          categories: ["vitals", "sleep"],
          expiresAt: new Date(Date.now() + 30 * DAY_MS).toISOString(),
          note: "Before the visit",
        },
      }),
      201,
    );
    expect(invitation.code).toMatch(/^PLS-/);

    // Dr Okafor cannot redeem it as a patient; made a clinician (admin:grant --role clinician), can.
    const asPatient = await request(okafor, "POST", "/v1/grants/redeem", { body: { code: invitation.code } });
    await expectProblem(asPatient, 403, "FORBIDDEN");
    await grantRole(okafor, "clinician");
    const redeemed = await expectStatus<{ grant: { id: string; categories: string[]; patient: { id: string } } }>(
      await request(okafor, "POST", "/v1/grants/redeem", { body: { code: invitation.code } }),
      201,
    );
    expect(redeemed.grant).toMatchObject({ categories: ["vitals", "sleep"], patient: { id: ada.id } });
    const again = await request(okafor, "POST", "/v1/grants/redeem", { body: { code: invitation.code } });
    await expectProblem(again, 404, "NOT_FOUND");

    // The clinician reads exactly the granted categories, with a reason.
    const base = `/v1/patients/${ada.id}`;
    const range = `since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`;
    const heart = await expectStatus<{ items: { metric: string; count: number }[] }>(
      await request(okafor, "GET", `${base}/observations?metrics=heart_rate&resolution=day&${range}`, {
        reason: "treatment; pre-visit review",
      }),
      200,
    );
    expect(heart.items.length).toBeGreaterThan(0);
    expect(heart.items.every((item) => item.metric === "heart_rate" && item.count > 0)).toBe(true);
    const sleep = await expectStatus<{ items: unknown[] }>(
      await request(okafor, "GET", `${base}/sleep?${range}`, { reason: "treatment" }),
      200,
    );
    expect(sleep.items.length).toBeGreaterThan(0);
    const glucose = await request(okafor, "GET", `${base}/observations?metrics=blood_glucose&${range}`, { reason: "treatment" });
    await expectProblem(glucose, 403, "FORBIDDEN");
    const noReason = await request(okafor, "GET", `${base}/observations?metrics=heart_rate&${range}`);
    await expectProblem(noReason, 400, "VALIDATION_FAILED");
    // Someone without the clinician role has no grantee routes at all.
    const stranger = await request(audrey, "GET", `${base}/observations?metrics=heart_rate&${range}`, { reason: "treatment" });
    await expectProblem(stranger, 403, "FORBIDDEN");

    // The patient's access log shows those reads: name, role, reason, result.
    const log = await expectStatus<{ items: AccessLogItem[] }>(await request(ada, "GET", "/v1/me/access-log?actor=others"), 200);
    const byOkafor = log.items.filter((item) => item.who.kind === "grantee");
    expect(byOkafor.map((item) => [item.action, item.who.label, item.reason, item.result])).toEqual([
      ["observations.read", "Dr Okafor (clinician)", "treatment", "denied"],
      ["sleep.read", "Dr Okafor (clinician)", "treatment", "success"],
      ["observations.read", "Dr Okafor (clinician)", "treatment; pre-visit review", "success"],
      ["grant.redeem", "Dr Okafor (clinician)", null, "success"],
    ]);
    expect(byOkafor[0]?.categories).toEqual(["glucose"]);
    expect(byOkafor[2]?.categories).toEqual(["vitals"]);
    expect(byOkafor[3]?.description).toBe(`Redeemed your invitation and was given access (grant ${redeemed.grant.id})`);
    const grantsSeen = await expectStatus<{ items: { id: string; status: string; lastAccessedAt: string | null }[] }>(
      await request(ada, "GET", "/v1/me/grants"),
      200,
    );
    expect(grantsSeen.items).toEqual([expect.objectContaining({ id: redeemed.grant.id, status: "active" })]);
    expect(grantsSeen.items[0]?.lastAccessedAt).not.toBeNull();

    // She revokes; the clinician's very next read is 404, as for an id never shared.
    expect((await request(ada, "DELETE", `/v1/me/grants/${redeemed.grant.id}`)).status).toBe(204);
    const afterRevoke = await request(okafor, "GET", `${base}/observations?metrics=heart_rate&${range}`, { reason: "treatment" });
    await expectProblem(afterRevoke, 404, "NOT_FOUND");
    const theirs = await expectStatus<{ items: unknown[] }>(await request(okafor, "GET", "/v1/grants"), 200);
    expect(theirs.items).toEqual([]);

    // She exports everything: queued, built by the job on the SYNC queue, downloaded by the signed link.
    const receipt = await expectStatus<{ id: string; status: string }>(await request(ada, "POST", "/v1/me/exports"), 202);
    expect(receipt.status).toBe("queued");
    await drainSync();
    const built = await expectStatus<{ status: string; byteSize: number; downloadUrl: string }>(
      await request(ada, "GET", `/v1/me/exports/${receipt.id}`),
      200,
    );
    expect(built.status).toBe("completed");
    const link = new URL(built.downloadUrl);
    const download = await call(app, `${link.pathname}${link.search}`, { headers: { "CF-Connecting-IP": ada.signedUp.ip } });
    expect(download.status).toBe(200);
    expect(download.headers.get("Content-Type")).toBe("application/zip");
    const zip = new Uint8Array(await download.arrayBuffer());
    expect(zip.byteLength).toBe(built.byteSize);
    const files = unzipSync(zip);
    const lines = (path: string) =>
      decoder
        .decode(files[path])
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining([
        "README.txt",
        "observations/heart_rate.ndjson",
        "observations/blood_glucose.ndjson",
        "sleep.ndjson",
        "account.json",
        "access-log.ndjson",
        "manifest.json",
      ]),
    );
    expect(Object.keys(files).filter((path) => path.startsWith("uploads/"))).toHaveLength(3);
    expect(lines("observations/heart_rate.ndjson").length).toBeGreaterThan(0);
    const exportedLog = lines("access-log.ndjson");
    expect(exportedLog).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: "grant.revoke" }),
        expect.objectContaining({ actor: okafor.id }),
      ]),
    );
    const account = JSON.parse(decoder.decode(files["account.json"])) as { grantsGiven?: unknown[] };
    expect(JSON.stringify(account)).toContain(redeemed.grant.id);

    // An auditor verifies her chain and the security chain (the role changes above included).
    await grantRole(audrey, "auditor");
    const verify = async (query = "") =>
      expectStatus<Verification>(await request(audrey, "GET", `/v1/audit/verify${query}`), 200);
    expect(await verify(`?userId=${ada.id}`)).toMatchObject({ ok: true, chain: ada.id });
    expect(await verify()).toMatchObject({ ok: true, chain: "security" });

    // Someone with the store's file rewrites the reason of the clinician's read: found, at that seq.
    const store = healthStoreFor(env.HEALTH_STORE, ada.id);
    const edit = (reason: string) =>
      runInDurableObject(store.stub, (_instance, state) => {
        const [row] = state.storage.sql
          .exec<{ seq: number }>(
            "SELECT seq FROM audit_events WHERE actor = ? AND action = 'observations.read' AND result = 'success'",
            okafor.id,
          )
          .toArray();
        state.storage.sql.exec("UPDATE audit_events SET reason = ? WHERE seq = ?", reason, row?.seq ?? -1);
        return row?.seq ?? -1;
      });
    const editedSeq = await edit("research");
    expect(await verify(`?userId=${ada.id}`)).toMatchObject({
      ok: false,
      firstBroken: { seq: editedSeq, problem: "hash_mismatch" },
    });
    await edit("treatment; pre-visit review");
    expect((await verify(`?userId=${ada.id}`)).ok).toBe(true);

    // Sealed to R2 by the store's alarm, then the sealed chunk is edited: found, naming the chunk.
    expect(await runDurableObjectAlarm(store.stub)).toBe(true);
    const [chunk] = (await env.LAKE.list({ prefix: `audit/${ada.id}/` })).objects;
    if (!chunk) expect.fail("no sealed chunk");
    const original = await (await env.LAKE.get(chunk.key))?.text();
    await env.LAKE.put(chunk.key, (original ?? "").replace('"treatment; pre-visit review"', '"research"'));
    expect(await verify(`?userId=${ada.id}`)).toMatchObject({
      ok: false,
      firstBroken: { problem: "chunk_altered", chunk: chunk.key },
    });
    await env.LAKE.put(chunk.key, original ?? "");
    expect(await verify(`?userId=${ada.id}`)).toMatchObject({ ok: true, chunksChecked: 1 });

    // She deletes the account with the saved passkey: a fresh sign-in, then the deletion ceremony.
    const saved = JSON.parse(JSON.stringify(await ada.signedUp.authenticator.saveCredential()));
    const passkey = await SoftwareAuthenticator.restore(saved);
    const fresh = await signIn(passkey);
    const oldToken = ada.token;
    ada.token = fresh.accessToken;
    const { flowId, options } = await expectStatus<{ flowId: string; options: RequestOptions }>(
      await request(ada, "POST", "/v1/me/deletion/options"),
      200,
    );
    const deleting = await request(ada, "POST", "/v1/me/deletion/verify", {
      body: { flowId, response: await passkey.authenticate(options) },
    });
    expect(await expectStatus<{ status: string }>(deleting, 202)).toMatchObject({ status: "deleting" });
    for (const token of [oldToken, fresh.accessToken]) {
      await expectProblem(await request({ ...ada, token }, "GET", "/v1/me"), 401, "UNAUTHENTICATED");
    }
    await drainSync();

    // Nothing of her remains: her row, her R2 objects, her store; her passkey signs nobody in.
    expect(await db.select().from(users).where(eq(users.id, ada.id))).toEqual([]);
    for (const prefix of [`raw/${ada.id}/`, `exports/${ada.id}/`, `audit/${ada.id}/`]) {
      expect((await env.LAKE.list({ prefix })).objects).toEqual([]);
    }
    const tables = await runInDurableObject(store.stub, (_instance, state) =>
      state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
        .toArray(),
    );
    expect(tables).toEqual([]);
    expect((await attemptSignIn(passkey)).status).toBe(401);
    const download2 = await call(app, `${link.pathname}${link.search}`);
    expect(download2.status).toBe(404);

    // The security chain still verifies; her own chain is gone with her (404, like any unknown id).
    expect(await verify()).toMatchObject({ ok: true });
    await expectProblem(await request(audrey, "GET", `/v1/audit/verify?userId=${ada.id}`), 404, "NOT_FOUND");
  });
});
