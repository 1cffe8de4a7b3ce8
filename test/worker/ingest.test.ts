import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import { handleQueueBatch, QUEUES } from "../../src/queues/consumer";
import { ingestUpload } from "../../src/uploads/ingest-upload";
import { createSessionUser } from "./helpers/session-user";
import { getUpload, seedUpload, storedCounts, uploadOk, waitForUpload } from "./helpers/upload-api";
import { encodeHeartRate, heartRateFile, heartRateRecord, rawContainer, SAMPLES, sampleBytes } from "./helpers/upload-files";

/**
 * The INGEST side of uploads (DESIGN §5, §6): the real queue consumer picks up every upload posted
 * here (the local INGEST queue feeds the Worker's queue handler), so end-to-end tests post and then
 * wait on the status route as a client would. Tests of retries and dead letters seed an upload
 * directly (no message in flight) and drive the job or the consumer themselves.
 */
const app = createApp();
const db = getDb(env.DB);
const none = { accepted: 0, duplicate: 0, flagged: 0, rejected: 0 };

async function lakeLines(userId: string, metric: string): Promise<Record<string, unknown>[]> {
  const listed = await env.LAKE.list({ prefix: `lake/${metric}/` });
  const mine = listed.objects.filter((object) => object.key.includes(`/${userId}/`));
  const lines: Record<string, unknown>[] = [];
  for (const object of mine) {
    const part = await env.LAKE.get(object.key);
    expect(part?.httpMetadata?.contentEncoding).toBe("gzip");
    const text = part?.body ? await new Response(part.body.pipeThrough(new DecompressionStream("gzip"))).text() : "";
    for (const line of text.split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return lines;
}

/**
 * The user's HealthStore namespace with an upload's chunk writes failing on the given calls
 * (1-based): before the store sees them, or with `after`, once the store has committed them (the
 * consumer died before it heard back).
 */
function flakyStore(failOn: number[], when: "before" | "after" = "before"): DurableObjectNamespace<HealthStore> {
  let calls = 0;
  const namespace = env.HEALTH_STORE;
  return {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = namespace.get(id);
      return new Proxy(stub, {
        get(target, name) {
          if (name !== "ingestUploadChunk") return Reflect.get(target, name);
          return async (...args: Parameters<typeof stub.ingestUploadChunk>) => {
            calls++;
            if (!failOn.includes(calls)) return stub.ingestUploadChunk(...args);
            if (when === "after") await stub.ingestUploadChunk(...args);
            throw new Error("store unavailable");
          };
        },
      });
    },
  } as unknown as DurableObjectNamespace<HealthStore>;
}

describe("ingesting the Health Connect samples end to end", () => {
  it("stores every sample's records with exact counts, in the user's store only", async () => {
    const [user, bystander] = [await createSessionUser(), await createSessionUser()];
    const expected = {
      ActiveCaloriesBurned: 1,
      BloodGlucose: 12,
      HeartRate: 15,
      HeartRateVariabilityRmssd: 6,
      SleepSession: 1,
      Steps: 1,
    } satisfies Record<keyof typeof SAMPLES, number>;
    const receipts = [];
    for (const name of Object.values(SAMPLES)) receipts.push(await uploadOk(app, user, sampleBytes(name)));
    for (const receipt of receipts) {
      const done = await waitForUpload(app, user, receipt.uploadId);
      expect(done).toMatchObject({
        status: "completed",
        error: null,
        counts: { ...none, accepted: expected[done.recordType as keyof typeof expected] },
      });
      expect(done.completedAt).not.toBeNull();
    }
    expect(await storedCounts(user.user.id)).toEqual({ observations: 35, sleepSessions: 1, workouts: 0 });
    expect(await storedCounts(bystander.user.id)).toEqual({ observations: 0, sleepSessions: 0, workouts: 0 });

    const lines = await lakeLines(user.user.id, "blood_glucose");
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatchObject({ kind: "observation", userId: user.user.id, metric: "blood_glucose", unit: "mg/dL" });
    expect((await lakeLines(user.user.id, "sleep")).map((line) => line.kind)).toEqual(["sleep"]);
  });

  it("ingests nothing twice: a re-sent file is the same completed upload", async () => {
    const user = await createSessionUser();
    const bytes = sampleBytes(SAMPLES.HeartRate);
    const first = await uploadOk(app, user, bytes);
    await waitForUpload(app, user, first.uploadId);
    const again = await uploadOk(app, user, bytes, 200);
    expect(again).toMatchObject({ uploadId: first.uploadId, status: "completed" });
    expect(await storedCounts(user.user.id)).toEqual({ observations: 15, sleepSessions: 0, workouts: 0 });
  });

  it("counts records two files share as duplicates, and a newer version as accepted, without duplicating rows", async () => {
    const user = await createSessionUser();
    const prefix = crypto.randomUUID();
    const a = await uploadOk(app, user, await heartRateFile(10, { prefix, samples: 2 }));
    expect(await waitForUpload(app, user, a.uploadId)).toMatchObject({ status: "completed", counts: { ...none, accepted: 20 } });

    // Records 5-14: 5-9 are already stored.
    const b = await uploadOk(app, user, await heartRateFile(10, { prefix, samples: 2, first: 5 }));
    expect(await waitForUpload(app, user, b.uploadId)).toMatchObject({
      status: "completed",
      counts: { ...none, accepted: 10, duplicate: 10 },
    });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 30 });

    // Record 0 edited on the phone: a newer version replaces it.
    const c = await uploadOk(app, user, await heartRateFile(1, { prefix, samples: 2, version: Date.UTC(2026, 9, 2), bpm: 200 }));
    expect(await waitForUpload(app, user, c.uploadId)).toMatchObject({ status: "completed", counts: { ...none, accepted: 2 } });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 30 });
  });

  it("flags out-of-range values and keeps them", async () => {
    const user = await createSessionUser();
    const receipt = await uploadOk(app, user, await heartRateFile(2, { prefix: crypto.randomUUID(), samples: 3, bpm: 400 }));
    expect(await waitForUpload(app, user, receipt.uploadId)).toMatchObject({ counts: { ...none, accepted: 6, flagged: 6 } });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 6 });
  });
});

describe("large files", () => {
  it("are written in chunks of at most 10,000 observations, each with its lake part", async () => {
    const user = await createSessionUser();
    const receipt = await uploadOk(
      app,
      user,
      await heartRateFile(25, { prefix: crypto.randomUUID(), samples: 1000, blockRecords: 4 }),
    );
    expect(receipt.recordCount).toBe(25);
    expect(await waitForUpload(app, user, receipt.uploadId)).toMatchObject({
      status: "completed",
      counts: { ...none, accepted: 25000 },
    });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 25000 });
    const parts = (await env.LAKE.list({ prefix: "lake/heart_rate/" })).objects.filter((object) =>
      object.key.includes(receipt.uploadId),
    );
    expect(parts.map((part) => part.key.slice(-15)).sort()).toEqual(["00000.ndjson.gz", "00001.ndjson.gz", "00002.ndjson.gz"]);
    expect(await lakeLines(user.user.id, "heart_rate")).toHaveLength(25000);
  });

  it("hand over to a continuation message after the per-run chunk budget", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(25, { prefix: crypto.randomUUID(), samples: 1000 });
    const seeded = await seedUpload(user, bytes, 25);
    expect(await ingestUpload({ db, env, maxChunksPerRun: 2 }, seeded.message)).toBe("continued");
    // The continuation goes through the real queue.
    expect(await waitForUpload(app, user, seeded.id)).toMatchObject({
      status: "completed",
      counts: { ...none, accepted: 25000 },
    });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 25000 });
  });
});

describe("failures", () => {
  it("a retry resumes after the chunks already written, and the counts add up to one pass", async () => {
    const user = await createSessionUser();
    const seeded = await seedUpload(user, await heartRateFile(25, { prefix: crypto.randomUUID(), samples: 1000 }), 25);
    const flaky = { ...env, HEALTH_STORE: flakyStore([2]) };
    await expect(ingestUpload({ db, env: flaky }, seeded.message)).rejects.toThrow("store unavailable");
    const [midway] = await db.select().from(uploads).where(eq(uploads.id, seeded.id));
    expect(midway).toMatchObject({ status: "processing", errorCode: "INTERNAL" });
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "processing", counts: { ...none, accepted: 10000 } });

    expect(await ingestUpload({ db, env }, seeded.message)).toBe("completed");
    expect(await getUpload(app, user, seeded.id)).toMatchObject({
      status: "completed",
      error: null,
      counts: { ...none, accepted: 25000 },
    });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 25000 });
    expect(await ingestUpload({ db, env }, seeded.message)).toBe("skipped");
  });

  it("a chunk the store committed just before the job died is neither written nor counted twice", async () => {
    const user = await createSessionUser();
    const seeded = await seedUpload(user, await heartRateFile(25, { prefix: crypto.randomUUID(), samples: 1000 }), 25);
    const crashing = { ...env, HEALTH_STORE: flakyStore([2], "after") };
    await expect(ingestUpload({ db, env: crashing }, seeded.message)).rejects.toThrow("store unavailable");
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "processing", counts: { ...none, accepted: 20000 } });

    expect(await ingestUpload({ db, env }, seeded.message)).toBe("completed");
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "completed", counts: { ...none, accepted: 25000 } });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 25000 });
    // The second chunk's lake part, which the dead run never wrote, is there too.
    expect(await lakeLines(user.user.id, "heart_rate")).toHaveLength(25000);
  });

  it("the consumer retries a failing job with backoff instead of acking it", async () => {
    const user = await createSessionUser();
    const seeded = await seedUpload(user, await heartRateFile(2, { prefix: crypto.randomUUID() }), 2);
    const batch = createMessageBatch<unknown>(QUEUES.ingest, [
      { id: "m-ingest", timestamp: new Date(), attempts: 2, body: seeded.message },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, { ...env, HEALTH_STORE: flakyStore([1]) }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages.map((message) => message.msgId)).toEqual(["m-ingest"]);
    expect(result.explicitAcks).toEqual([]);

    const retry = createMessageBatch<unknown>(QUEUES.ingest, [
      { id: "m-ingest", timestamp: new Date(), attempts: 3, body: seeded.message },
    ]);
    const retryCtx = createExecutionContext();
    await handleQueueBatch(retry, env, retryCtx);
    expect((await getQueueResult(retry, retryCtx)).explicitAcks).toEqual(["m-ingest"]);
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "completed", counts: { ...none, accepted: 2 } });
  });

  it("a file damaged after its first block fails with the reader's error; earlier chunks stay", async () => {
    const user = await createSessionUser();
    const records = Array.from({ length: 6 }, (_, i) =>
      encodeHeartRate(heartRateRecord(i, { samples: 3000, prefix: crypto.randomUUID() })),
    );
    const blocks = records.map((data, i) => ({ count: 1, data: i === 4 ? data.map(() => 0xff) : data }));
    const receipt = await uploadOk(app, user, rawContainer({ blocks }));
    const done = await waitForUpload(app, user, receipt.uploadId);
    expect(done).toMatchObject({ status: "failed", counts: { ...none, accepted: 10000 }, error: { code: "CORRUPT_DATA" } });
    expect(done.error?.message).toMatch(/^block 4: /);
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 10000 });
  });

  it("after the last retry the dead letter marks the upload failed; re-sending the file retries it", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(3, { prefix: crypto.randomUUID() });
    const seeded = await seedUpload(user, bytes, 3, { status: "processing" });
    await db.update(uploads).set({ errorCode: "INTERNAL", errorMessage: "store unavailable" }).where(eq(uploads.id, seeded.id));

    const at = new Date();
    const batch = createMessageBatch<unknown>(QUEUES.ingestDlq, [
      { id: "m-dead-upload", timestamp: at, attempts: 1, body: seeded.message },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m-dead-upload"]);
    const failed = await getUpload(app, user, seeded.id);
    expect(failed).toMatchObject({ status: "failed", error: { code: "RETRIES_EXHAUSTED" } });
    expect(failed.error?.message).toContain("INTERNAL");
    expect(
      await env.LAKE.head(`dead-letters/${QUEUES.ingestDlq}/${at.toISOString().slice(0, 10)}/m-dead-upload.json`),
    ).not.toBeNull();

    const again = await uploadOk(app, user, bytes, 200);
    expect(again).toMatchObject({ uploadId: seeded.id, status: "queued" });
    expect(await waitForUpload(app, user, seeded.id)).toMatchObject({ status: "completed", counts: { ...none, accepted: 3 } });
  });

  it("a dead letter whose handler cannot reach D1 is retried, not dropped", async () => {
    const user = await createSessionUser();
    const seeded = await seedUpload(user, await heartRateFile(1, { prefix: crypto.randomUUID() }), 1, { status: "processing" });
    const broken = {
      ...env,
      DB: {
        prepare: () => {
          throw new Error("D1 unavailable");
        },
      } as unknown as D1Database,
    };
    const batch = createMessageBatch<unknown>(QUEUES.ingestDlq, [
      { id: "m-dead-2", timestamp: new Date(), attempts: 1, body: seeded.message },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, broken, ctx);
    expect((await getQueueResult(batch, ctx)).retryMessages.map((message) => message.msgId)).toEqual(["m-dead-2"]);
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "processing" });
  });
});
