import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ChainedAuditEvent } from "../../src/audit/event";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { exports, users } from "../../src/db/schema";
import { buildExport, exportBuildJob, exportKey } from "../../src/exports/build-job";
import type { ExportReceipt, ExportView } from "../../src/exports/exports";
import { purgeExpiredExports, purgeExpiredExportsJob } from "../../src/exports/retention";
import type { ExportBuildMessage } from "../../src/exports/schema";
import { downloadPath } from "../../src/exports/signing";
import { handleQueueBatch, QUEUES } from "../../src/queues/consumer";
import { CRONS, defaultSchedule } from "../../src/scheduled/handler";
import { acceptCurrentConsent } from "./helpers/consent";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";
import { seedUpload } from "./helpers/upload-api";
import { SAMPLES, sampleBytes } from "./helpers/upload-files";

/**
 * Exports end to end in workerd: the routes, the export.build job run with the real env (D1, R2,
 * the HealthStore), the signed download, and the archive unzipped and read back.
 */
const app = createTestApp();
const db = getDb(env.DB);
const decoder = new TextDecoder();
const HOUR = 60 * 60 * 1000;
const T0 = Date.parse("2026-03-01T00:00:00Z");

/** A SYNC queue that keeps what the route sends, so the test runs the job itself. */
function capturingQueue(sent: ExportBuildMessage[]): Queue {
  return {
    send: async (body: ExportBuildMessage) => void sent.push(body),
    sendBatch: async () => undefined,
  } as unknown as Queue;
}

interface Harness {
  sent: ExportBuildMessage[];
  request(user: SessionUser, path: string, init?: RequestInit): Promise<Response>;
}

function harness(): Harness {
  const sent: ExportBuildMessage[] = [];
  const SYNC = capturingQueue(sent);
  return {
    sent,
    request: (user, path, init = {}) =>
      call(app, path, { ...init, headers: { ...user.headers, ...(init.headers as Record<string, string>) } }, { SYNC }),
  };
}

async function requestExport(h: Harness, user: SessionUser): Promise<ExportReceipt> {
  const res = await h.request(user, "/v1/me/exports", { method: "POST" });
  if (res.status !== 202) expect.fail(`POST /v1/me/exports: ${res.status} ${await res.text()}`);
  return res.json<ExportReceipt>();
}

async function exportView(h: Harness, user: SessionUser, id: string): Promise<ExportView> {
  const res = await h.request(user, `/v1/me/exports/${id}`);
  if (res.status !== 200) expect.fail(`GET export: ${res.status} ${await res.text()}`);
  return res.json<ExportView>();
}

async function runJob(message: ExportBuildMessage | undefined): Promise<void> {
  if (message === undefined) expect.fail("no export.build message was queued");
  await exportBuildJob.run(message, { env, ctx: createExecutionContext(), messageId: "m-export", attempts: 1 });
}

/** Requests an export, runs its job, and returns the completed view. */
async function completedExport(h: Harness, user: SessionUser): Promise<ExportView> {
  const receipt = await requestExport(h, user);
  await runJob(h.sent.find((message) => message.exportId === receipt.id));
  const view = await exportView(h, user, receipt.id);
  expect(view.status).toBe("completed");
  return view;
}

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/** An anonymous download, as a browser following the link would make it. */
function download(path: string, method = "GET"): Promise<Response> {
  return call(app, path, { method, headers: { "CF-Connecting-IP": "10.9.9.9" } });
}

const lines = (bytes: Uint8Array | undefined) =>
  decoder
    .decode(bytes)
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const STORE_AUDIT = (user: SessionUser) => ({
  actor: user.user.id,
  role: "patient" as const,
  reason: null,
  requestId: null,
  ip: null,
  subject: user.user.id,
});

describe("a full export", () => {
  it("archives every observation, session, upload, account record and access, downloadable through its signed link", async () => {
    const h = harness();
    const user = await createSessionUser();
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    // 6,001 heart-rate samples span two store pages of the job (5,000 rows each).
    const heartRate = Array.from({ length: 6_001 }, (_, i) =>
      observationInput("heart_rate", "bpm", T0 + i * 60_000, 60 + (i % 40), {
        sourceRecordId: `hr-${Math.floor(i / 1000)}`,
        device: "Pixel Watch",
        zoneOffsetSeconds: 3600,
        flagged: i === 5,
      }),
    );
    const steps = [
      observationInput("steps", "count", T0, 120, { end: T0 + HOUR, sourceKind: "provider", sourceApp: "oura" }),
      observationInput("steps", "count", T0 + HOUR, 340, { end: T0 + 2 * HOUR, zoneOffsetSeconds: -18_000 }),
    ];
    for (let i = 0; i < heartRate.length; i += 5_000) {
      await store.ingest(heartRate.slice(i, i + 5_000), STORE_AUDIT(user));
    }
    await store.ingestBatch(
      {
        observations: steps,
        sleepSessions: [
          {
            sourceKind: "upload",
            sourceApp: "com.example.sleep",
            sourceRecordId: "night-1",
            start: T0 - 8 * HOUR,
            end: T0,
            localDate: "2026-03-01",
            stages: [
              { stage: "light", start: T0 - 8 * HOUR, end: T0 - 5 * HOUR },
              { stage: "deep", start: T0 - 5 * HOUR, end: T0 - 3 * HOUR },
              { stage: "rem", start: T0 - 3 * HOUR, end: T0 },
            ],
          },
        ],
        workouts: [
          {
            sourceKind: "provider",
            sourceApp: "strava",
            sourceRecordId: "run-1",
            start: T0 + 2 * HOUR,
            end: T0 + 3 * HOUR,
            localDate: "2026-03-01",
            exerciseType: "running",
            title: "Morning run",
          },
        ],
      },
      STORE_AUDIT(user),
    );
    const avro = sampleBytes(SAMPLES.Steps);
    const upload = await seedUpload(user, avro, 1);
    await acceptCurrentConsent(user.user.id, new Date(T0));

    const receipt = await requestExport(h, user);
    expect(receipt).toMatchObject({ status: "queued", statusUrl: `/v1/me/exports/${receipt.id}` });
    expect(Date.parse(receipt.expiresAt) - Date.parse(receipt.createdAt)).toBe(7 * 24 * HOUR);
    expect(h.sent).toEqual([{ type: "export.build", exportId: receipt.id, userId: user.user.id, requestId: expect.any(String) }]);
    expect(await exportView(h, user, receipt.id)).toMatchObject({ status: "queued", downloadUrl: null, byteSize: null });

    await runJob(h.sent[0]);
    const view = await exportView(h, user, receipt.id);
    expect(view).toMatchObject({ status: "completed", completedAt: expect.any(String) });
    expect(view.error).toBeUndefined();
    expect(view.downloadUrl).toMatch(
      new RegExp(`^http://localhost/v1/exports/${receipt.id}/download\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`),
    );

    const res = await download(pathOf(view.downloadUrl ?? ""));
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/zip");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Content-Disposition")).toBe(
      `attachment; filename="pulse-export-${receipt.createdAt.slice(0, 10)}.zip"`,
    );
    const zip = new Uint8Array(await res.arrayBuffer());
    expect(zip.byteLength).toBe(view.byteSize);
    const files = unzipSync(zip);
    const uploadPath = `uploads/${upload.key.slice(`raw/${user.user.id}/`.length)}`;
    expect(Object.keys(files).sort()).toEqual(
      [
        "README.txt",
        "access-log.ndjson",
        "account.json",
        "fhir/bundle.json",
        "manifest.json",
        "observations/heart_rate.ndjson",
        "observations/steps.ndjson",
        "sleep.ndjson",
        "workouts.ndjson",
        uploadPath,
      ].sort(),
    );

    const hr = lines(files["observations/heart_rate.ndjson"]);
    expect(hr).toHaveLength(6_001);
    expect(hr[0]).toEqual({
      start: "2026-03-01T00:00:00.000Z",
      end: "2026-03-01T00:00:00.000Z",
      value: 60,
      unit: "bpm",
      sourceKind: "upload",
      sourceApp: "com.example.health",
      sourceRecordId: "hr-0",
      version: 1,
      device: "Pixel Watch",
      zoneOffsetSeconds: 3600,
      localDate: "2026-03-01",
      flagged: false,
    });
    expect(hr[5]).toMatchObject({ flagged: true, value: 65 });
    expect(hr.map((row) => row.value)).toEqual(heartRate.map((row) => row.value));
    expect(hr.at(-1)).toMatchObject({ start: new Date(T0 + 6_000 * 60_000).toISOString(), sourceRecordId: "hr-6" });

    expect(lines(files["observations/steps.ndjson"])).toEqual([
      expect.objectContaining({
        start: "2026-03-01T00:00:00.000Z",
        end: "2026-03-01T01:00:00.000Z",
        value: 120,
        sourceKind: "provider",
        sourceApp: "oura",
        device: null,
        zoneOffsetSeconds: null,
      }),
      expect.objectContaining({ value: 340, zoneOffsetSeconds: -18_000, sourceKind: "upload" }),
    ]);
    const [night, ...moreNights] = lines(files["sleep.ndjson"]);
    expect(moreNights).toEqual([]);
    expect(night).toMatchObject({
      start: "2026-02-28T16:00:00.000Z",
      end: "2026-03-01T00:00:00.000Z",
      sourceRecordId: "night-1",
      stages: [
        { stage: "light", start: "2026-02-28T16:00:00.000Z", end: "2026-02-28T19:00:00.000Z" },
        { stage: "deep", start: "2026-02-28T19:00:00.000Z", end: "2026-02-28T21:00:00.000Z" },
        { stage: "rem", start: "2026-02-28T21:00:00.000Z", end: "2026-03-01T00:00:00.000Z" },
      ],
      totals: { inBedMs: 8 * HOUR, asleepMs: 8 * HOUR },
    });
    expect(lines(files["workouts.ndjson"])).toEqual([
      expect.objectContaining({
        exerciseType: "running",
        title: "Morning run",
        sourceApp: "strava",
        start: "2026-03-01T02:00:00.000Z",
        end: "2026-03-01T03:00:00.000Z",
      }),
    ]);
    expect(files[uploadPath]).toEqual(avro);

    const account = JSON.parse(decoder.decode(files["account.json"])) as Record<string, unknown>;
    expect(account.profile).toMatchObject({ id: user.user.id, username: user.user.username, role: "patient" });
    expect(account.sessions).toEqual([expect.objectContaining({ kind: "interactive", revokedAt: null })]);
    expect(account.consents).toEqual([
      expect.objectContaining({ document: "privacy", acceptedAt: new Date(T0).toISOString(), withdrawnAt: null }),
      expect.objectContaining({ document: "terms", acceptedAt: new Date(T0).toISOString(), withdrawnAt: null }),
    ]);
    expect(JSON.stringify(account)).not.toMatch(/publicKey|secretHash|Ciphertext/);

    const manifest = JSON.parse(decoder.decode(files["manifest.json"])) as {
      formatVersion: number;
      userId: string;
      exportId: string;
      files: { path: string; count: number | null; bytes: number }[];
    };
    expect(manifest).toMatchObject({
      formatVersion: 1,
      userId: user.user.id,
      exportId: receipt.id,
      createdAt: receipt.createdAt,
    });
    for (const [path, bytes] of Object.entries(files)) {
      if (path === "manifest.json") continue;
      expect(manifest.files.find((file) => file.path === path)?.bytes, path).toBe(bytes.byteLength);
    }
    expect(manifest.files.find((file) => file.path === "observations/heart_rate.ndjson")?.count).toBe(6_001);
    expect(manifest.files.find((file) => file.path === "sleep.ndjson")?.count).toBe(1);
    expect(decoder.decode(files["README.txt"])).toContain("access-log.ndjson");

    // The access log: the ingest writes, then one export.read per file (not per page).
    const log = lines(files["access-log.ndjson"]) as unknown as ChainedAuditEvent[];
    expect(log.map((event) => event.seq)).toEqual(log.map((_, i) => i + 1));
    expect(log.filter((event) => event.action === "observations.write")).toHaveLength(3);
    const reads = log.filter((event) => event.action === "export.read").map((event) => event.resource);
    expect(reads.filter((resource) => resource.startsWith("export:"))).toEqual([
      `export:${receipt.id}`,
      `export:${receipt.id}:observations/heart_rate`,
      `export:${receipt.id}:observations/steps`,
      `export:${receipt.id}:sleep`,
      `export:${receipt.id}:workouts`,
    ]);
    // fhir/bundle.json records its own reads, the export and each of its parts once.
    expect(reads.filter((resource) => resource.startsWith("fhir_export;")).map((r) => r.split(";id=")[1])).toEqual([
      receipt.id,
      ...["heart_rate", "steps", "sleep", "workouts"].map((part) => `${receipt.id}%3AObservation%2F${part}`),
      `${receipt.id}%3ADevice`,
    ]);
    expect(log[0]).toMatchObject({ actor: user.user.id, prevHash: expect.any(String), hash: expect.any(String) });

    // The download itself is in the person's chain, after the export's reads.
    const latest = await store.accessLog({ limit: 2 });
    expect(latest.items[0]).toMatchObject({ action: "export.download", resource: `export:${receipt.id}`, actor: user.user.id });
    expect(latest.items[1]).toMatchObject({ action: "export.read", resource: `export:${receipt.id}:access-log` });
    expect((await store.verifyAudit()).ok).toBe(true);

    // A HEAD checks the link without taking the data, so it is no download and records nothing.
    const head = await download(pathOf(view.downloadUrl ?? ""), "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).toBe(String(view.byteSize));
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    expect((await store.accessLog({ limit: 1 })).items[0]?.seq).toBe(latest.items[0]?.seq);
  });

  it("exports an empty account too, with no metric files, and the consent history whatever it is", async () => {
    const h = harness();
    const user = await createSessionUser();
    const view = await completedExport(h, user);
    const res = await download(pathOf(view.downloadUrl ?? ""));
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(Object.keys(files).sort()).toEqual([
      "README.txt",
      "access-log.ndjson",
      "account.json",
      "fhir/bundle.json",
      "manifest.json",
      "sleep.ndjson",
      "workouts.ndjson",
    ]);
    expect(files["sleep.ndjson"]?.byteLength).toBe(0);
    expect(JSON.parse(decoder.decode(files["account.json"]))).toMatchObject({
      consents: [],
      grantsGiven: [],
      grantsReceived: [],
    });
  });

  it("writes an archive larger than one R2 part as a multipart upload, byte for byte", async () => {
    const h = harness();
    const user = await createSessionUser();
    // 11 MiB of random bytes (incompressible, stored as they are): three parts of 5, 5 and 1 MiB.
    const big = new Uint8Array(11 * 1024 * 1024);
    for (let offset = 0; offset < big.byteLength; offset += 65_536) crypto.getRandomValues(big.subarray(offset, offset + 65_536));
    const key = `raw/${user.user.id}/HeartRate/2026/03/01/upl_${"b".repeat(26)}.avro`;
    await env.LAKE.put(key, big);

    const view = await completedExport(h, user);
    expect(view.byteSize).toBeGreaterThan(big.byteLength);
    const res = await download(pathOf(view.downloadUrl ?? ""));
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()));
    const copy = files["uploads/HeartRate/2026/03/01/upl_bbbbbbbbbbbbbbbbbbbbbbbbbb.avro"];
    expect(copy?.byteLength).toBe(big.byteLength);
    const digest = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    expect(await digest(copy ?? new Uint8Array(0))).toEqual(await digest(big));
  });

  it("does nothing for a message of an export already completed (a redelivery)", async () => {
    const h = harness();
    const user = await createSessionUser();
    const view = await completedExport(h, user);
    const before = await env.LAKE.head(exportKey(user.user.id, view.id));
    await runJob(h.sent[0]);
    expect((await env.LAKE.head(exportKey(user.user.id, view.id)))?.etag).toBe(before?.etag);
    expect(await exportView(h, user, view.id)).toMatchObject({ status: "completed", byteSize: view.byteSize });
  });
});

describe("the SYNC queue", () => {
  it("routes export.build to the job through the real consumer, which acks it once the archive is built", async () => {
    const h = harness();
    const user = await createSessionUser();
    const receipt = await requestExport(h, user);
    const batch = createMessageBatch<unknown>(QUEUES.sync, [
      { id: "m-export-build", timestamp: new Date(), attempts: 1, body: h.sent[0] },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m-export-build"]);
    expect(result.retryMessages).toEqual([]);
    expect(await exportView(h, user, receipt.id)).toMatchObject({ status: "completed" });
    expect(await env.LAKE.head(exportKey(user.user.id, receipt.id))).not.toBeNull();
  });
});

describe("the signed download link", () => {
  it("refuses a tampered, expired, other export's or unknown link alike (404), and a malformed one (400)", async () => {
    const h = harness();
    const owner = await createSessionUser();
    const other = await createSessionUser();
    const mine = await completedExport(h, owner);
    const theirs = await completedExport(h, other);
    const path = pathOf(mine.downloadUrl ?? "");
    const url = new URL(path, "http://localhost");
    const signature = url.searchParams.get("signature") ?? "";
    const expires = Number(url.searchParams.get("expires"));
    const flipped = `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`;
    const theirSignature = new URL(theirs.downloadUrl ?? "").searchParams.get("signature");
    const config = getConfig(env);
    const stale = new URL(await downloadPath(config, mine.id, owner.user.id, Date.now() - 16 * 60 * 1000), "http://localhost");

    for (const refused of [
      `/v1/exports/${mine.id}/download?expires=${expires}&signature=${flipped}`,
      `/v1/exports/${mine.id}/download?expires=${expires + 1}&signature=${signature}`,
      `/v1/exports/${mine.id}/download?expires=${expires}&signature=${theirSignature}`,
      `/v1/exports/${theirs.id}/download?expires=${expires}&signature=${signature}`,
      `${stale.pathname}${stale.search}`,
      `/v1/exports/exp_${"a".repeat(26)}/download?expires=${expires}&signature=${signature}`,
    ]) {
      const res = await download(refused);
      await expectProblem(res, 404, "NOT_FOUND");
    }
    // A link signed for the owner's export but for another user id does not verify either.
    const forged = new URL(await downloadPath(config, mine.id, other.user.id, Date.now()), "http://localhost");
    await expectProblem(await download(`${forged.pathname}${forged.search}`), 404, "NOT_FOUND");

    for (const malformed of [
      `/v1/exports/${mine.id}/download`,
      `/v1/exports/${mine.id}/download?expires=soon&signature=${signature}`,
      `/v1/exports/${mine.id}/download?expires=${expires}&signature=short`,
      `/v1/exports/not-an-id/download?expires=${expires}&signature=${signature}`,
    ]) {
      await expectProblem(await download(malformed), 400, "VALIDATION_FAILED");
    }
    // The genuine link still works, and the refusals left no download in the chain.
    expect((await download(path)).status).toBe(200);
    const log = await healthStoreFor(env.HEALTH_STORE, owner.user.id).accessLog({ limit: 50 });
    expect(log.items.filter((event) => event.action === "export.download")).toHaveLength(1);
  });

  it("refuses the link once the owner confirmed their account's deletion, before the job removed the export", async () => {
    const h = harness();
    const user = await createSessionUser();
    const view = await completedExport(h, user);
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    const before = (await store.accessLog({ limit: 1 })).items[0]?.seq;
    // What the confirmation sets at once; the deletion job removes the export later.
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, user.user.id));
    await expectProblem(await download(pathOf(view.downloadUrl ?? "")), 404, "NOT_FOUND");
    expect((await store.accessLog({ limit: 1 })).items[0]?.seq).toBe(before);
  });

  it("refuses the link of an export past its 7 days even before the purge ran (404)", async () => {
    const h = harness();
    const user = await createSessionUser();
    const view = await completedExport(h, user);
    await db
      .update(exports)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(exports.id, view.id));
    await expectProblem(await download(pathOf(view.downloadUrl ?? "")), 404, "NOT_FOUND");
    expect((await exportView(h, user, view.id)).downloadUrl).toBeNull();
  });
});

describe("one export at a time, five a day", () => {
  it("answers 409 naming the export being built, then accepts a new one once it is done", async () => {
    const h = harness();
    const user = await createSessionUser();
    const first = await requestExport(h, user);
    const res = await h.request(user, "/v1/me/exports", { method: "POST" });
    await expectProblem(res.clone(), 409, "CONFLICT");
    expect(await res.json()).toMatchObject({ exportId: first.id, statusUrl: first.statusUrl });
    expect(h.sent).toHaveLength(1);

    await runJob(h.sent[0]);
    const second = await requestExport(h, user);
    expect(second.id).not.toBe(first.id);
  });

  it("lets exactly one of two concurrent requests through", async () => {
    const h = harness();
    const user = await createSessionUser();
    const answers = await Promise.all([0, 1, 2].map(() => h.request(user, "/v1/me/exports", { method: "POST" })));
    expect(answers.map((res) => res.status).sort()).toEqual([202, 409, 409]);
    expect(h.sent).toHaveLength(1);
  });

  it("refuses a sixth export within 24 hours (429 with Retry-After)", async () => {
    const h = harness();
    const user = await createSessionUser();
    for (let i = 0; i < 5; i++) await completedExport(h, user);
    const res = await h.request(user, "/v1/me/exports", { method: "POST" });
    await expectProblem(res.clone(), 429, "RATE_LIMITED");
    const retryAfter = Number(res.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(23 * 3600);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
  });

  it("does not ask for consent: a person without accepted terms still exports", async () => {
    const h = harness();
    const user = await createSessionUser();
    expect((await h.request(user, "/v1/me/exports", { method: "POST" })).status).toBe(202);
  });
});

describe("reading exports", () => {
  it("lists the caller's exports newest first, a page at a time, and never another person's", async () => {
    const h = harness();
    const user = await createSessionUser();
    const stranger = await createSessionUser();
    const older = await completedExport(h, user);
    const newer = await requestExport(h, user);
    await requestExport(h, stranger);

    const first = await (await h.request(user, "/v1/me/exports?limit=1")).json<{ items: ExportView[]; nextCursor: string }>();
    expect(first.items.map((item) => item.id)).toEqual([newer.id]);
    const second = await (await h.request(user, `/v1/me/exports?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`)).json<{
      items: ExportView[];
      nextCursor: string | null;
    }>();
    expect(second).toMatchObject({ items: [{ id: older.id, status: "completed" }], nextCursor: null });

    await expectProblem(await h.request(stranger, `/v1/me/exports/${older.id}`), 404, "NOT_FOUND");
    await expectProblem(await h.request(user, "/v1/me/exports?cursor=bogus"), 400, "VALIDATION_FAILED");
    await expectProblem(await h.request(user, "/v1/me/exports/exp_nope"), 400, "VALIDATION_FAILED");
  });
});

describe("failure and retention", () => {
  it("marks the export failed with a plain message when its message dies in the dead-letter queue", async () => {
    const h = harness();
    const user = await createSessionUser();
    const receipt = await requestExport(h, user);
    const batch = createMessageBatch<unknown>(QUEUES.syncDlq, [
      { id: "m-export-dead", timestamp: new Date(), attempts: 1, body: h.sent[0] },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m-export-dead"]);
    const view = await exportView(h, user, receipt.id);
    expect(view).toMatchObject({ status: "failed", downloadUrl: null, error: expect.stringContaining("Request a new export") });
    // A failed export no longer blocks the next one.
    await requestExport(h, user);
  });

  it("ignores a message naming another user than the export's owner: nothing is read or written", async () => {
    const h = harness();
    const user = await createSessionUser();
    const receipt = await requestExport(h, user);
    const message = h.sent[0];
    if (message === undefined) expect.fail("nothing queued");
    await runJob({ ...message, userId: "usr_someoneelseentirelyxxxx" });
    expect(await exportView(h, user, receipt.id)).toMatchObject({ status: "queued" });
    expect(await env.LAKE.head(exportKey(user.user.id, receipt.id))).toBeNull();
  });

  it("builds nothing for an account whose deletion was confirmed after the export was queued", async () => {
    const h = harness();
    const user = await createSessionUser();
    const receipt = await requestExport(h, user);
    await db.update(users).set({ deletedAt: new Date() }).where(eq(users.id, user.user.id));
    await runJob(h.sent[0]);
    expect(await env.LAKE.head(exportKey(user.user.id, receipt.id))).toBeNull();
    const [row] = await db.select().from(exports).where(eq(exports.id, receipt.id));
    expect(row?.status).toBe("failed");
    // Nothing was read from the store either: no export event in the person's chain.
    const log = await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 50 });
    expect(log.items.filter((event) => event.action.startsWith("export."))).toEqual([]);
  });

  it("removes the archive it wrote when the export's record was deleted while it was being built", async () => {
    const h = harness();
    const user = await createSessionUser();
    const receipt = await requestExport(h, user);
    const message = h.sent[0];
    if (message === undefined) expect.fail("nothing queued");
    // The deletion job's export step runs while the archive is being written: the record goes.
    const sink = env.LAKE;
    const racing = {
      ...env,
      LAKE: new Proxy(sink, {
        get(target, name) {
          if (name === "createMultipartUpload" || name === "put") {
            return async (...args: unknown[]) => {
              await db.delete(exports).where(eq(exports.id, receipt.id));
              return (Reflect.get(target, name) as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          const value = Reflect.get(target, name);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    } as Env;
    await buildExport(racing, message);
    expect(await env.LAKE.head(exportKey(user.user.id, receipt.id))).toBeNull();
  });

  it("purges expired exports: the archive from R2 and the record; the link and status then answer 404", async () => {
    const h = harness();
    const user = await createSessionUser();
    const view = await completedExport(h, user);
    const key = exportKey(user.user.id, view.id);
    expect(await env.LAKE.head(key)).not.toBeNull();

    // The day before expiry nothing goes.
    await purgeExpiredExports(env, new Date(Date.parse(view.expiresAt) - 1));
    expect(await env.LAKE.head(key)).not.toBeNull();

    const result = await purgeExpiredExports(env, new Date(Date.parse(view.expiresAt)));
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    expect(await env.LAKE.head(key)).toBeNull();
    await expectProblem(await h.request(user, `/v1/me/exports/${view.id}`), 404, "NOT_FOUND");
    await expectProblem(await download(pathOf(view.downloadUrl ?? "")), 404, "NOT_FOUND");
    expect(defaultSchedule[CRONS.daily]).toContain(purgeExpiredExportsJob);
  });
});
