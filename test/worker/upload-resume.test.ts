import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { uploads } from "../../src/db/schema";
import { CRONS, runScheduled } from "../../src/scheduled/handler";
import type { IngestMessage } from "../../src/uploads/create-upload";
import { ingestUpload } from "../../src/uploads/ingest-upload";
import { MAX_RESUMES, RESEND_RESUMES_AFTER_MS, STALLED_AFTER_MS } from "../../src/uploads/resume";
import { resumeStalledUploads } from "../../src/uploads/resume-stalled";
import { createSessionUser } from "./helpers/session-user";
import { getUpload, seedUpload, storedCounts, uploadOk, waitForUpload } from "./helpers/upload-api";
import { heartRateFile } from "./helpers/upload-files";

/**
 * Uploads that stopped making progress (a lost message, a consumer that died between chunks) are
 * resumed by the stalled-upload sweeper or by re-sending the file, through the same resumable job,
 * and end with the counts of one pass over the file. The sweeper takes its clock from the cron's
 * scheduledTime, so "minutes later" is a scheduledTime minutes ahead.
 */
const app = createApp();
const db = getDb(env.DB);
const none = { accepted: 0, duplicate: 0, flagged: 0, rejected: 0 };
const minutes = (n: number) => n * 60_000;

/** An INGEST queue that loses every message, as the local queue does when the dev server is killed. */
function lossyQueue(sent: IngestMessage[] = []): Queue {
  return {
    send: async (body: IngestMessage) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<IngestMessage>>) => {
      for (const message of messages) sent.push(message.body);
    },
  } as unknown as Queue;
}

/** The last chunk the store counted for the upload was written at `at` (epoch ms). */
async function backdateProgress(userId: string, uploadId: string, at: number): Promise<void> {
  await runInDurableObject(healthStoreFor(env.HEALTH_STORE, userId).stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE upload_progress SET updated_at = ? WHERE upload_id = ?", at, uploadId);
  });
}

async function row(id: string) {
  const [found] = await db.select().from(uploads).where(eq(uploads.id, id));
  if (found === undefined) expect.fail(`no upload ${id}`);
  return found;
}

describe("the stalled-upload sweeper", () => {
  it("resumes a job that died between chunks; the upload completes with the counts of one pass", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(25, { prefix: crypto.randomUUID(), samples: 1000 });
    const seeded = await seedUpload(user, bytes, 25);
    // The first run writes one chunk of three, then its continuation message is lost.
    const lost: IngestMessage[] = [];
    expect(await ingestUpload({ db, env: { ...env, INGEST: lossyQueue(lost) }, maxChunksPerRun: 1 }, seeded.message)).toBe(
      "continued",
    );
    expect(lost).toHaveLength(1);
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "processing", counts: { ...none, accepted: 10000 } });

    const stalledAt = (await row(seeded.id)).updatedAt.getTime();
    const early = await resumeStalledUploads({ db, env }, new Date(stalledAt + STALLED_AFTER_MS - 1000));
    expect(early.resumed).not.toContain(seeded.id);

    // The cron fires minutes later; the resume goes through the real INGEST queue and consumer.
    const swept = await runScheduled(CRONS.everyFiveMinutes, new Date(stalledAt + minutes(5)), env);
    expect(swept.failed).toEqual([]);
    const done = await waitForUpload(app, user, seeded.id);
    expect(done).toMatchObject({ status: "completed", error: null, counts: { ...none, accepted: 25000 } });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 25000 });
    expect((await row(seeded.id)).resumeAttempts).toBe(0);
    const parts = (await env.LAKE.list({ prefix: "lake/heart_rate/" })).objects.filter((o) => o.key.includes(seeded.id));
    expect(parts).toHaveLength(3);
  });

  it("re-enqueues with an attempt counter and pages through many stalled uploads within its budget", async () => {
    const user = await createSessionUser();
    const old = new Date(Date.now() - minutes(60));
    const seeded = [];
    for (let i = 0; i < 5; i++)
      seeded.push(await seedUpload(user, await heartRateFile(1, { prefix: crypto.randomUUID() }), 1, { updatedAt: old }));
    const ids = seeded.map((upload) => upload.id);
    const sent: IngestMessage[] = [];
    const lossy = { db, env: { ...env, INGEST: lossyQueue(sent) } };

    const first = await resumeStalledUploads(lossy, new Date(), { pageSize: 2, maxPages: 2 });
    expect(first.more).toBe(true);
    const rest = await resumeStalledUploads(lossy, new Date(), { pageSize: 2, maxPages: 10 });
    const mine = (list: string[]) => list.filter((id) => ids.includes(id));
    expect(mine([...first.resumed, ...rest.resumed]).sort()).toEqual([...ids].sort());
    expect(sent.filter((message) => ids.includes(message.uploadId)).map((message) => message.resume)).toEqual([1, 1, 1, 1, 1]);
    expect(sent.find((message) => message.uploadId === ids[0])).toMatchObject({ type: "upload.ingest", userId: user.user.id });
    // Just resumed: not stalled again until it has made no progress for a while.
    const again = await resumeStalledUploads(lossy, new Date(), { pageSize: 2 });
    expect(mine(again.resumed)).toEqual([]);
  });

  it("fails an upload whose raw file is gone, with a reason the person can act on", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(3, { prefix: crypto.randomUUID() });
    const seeded = await seedUpload(user, bytes, 3, { updatedAt: new Date(Date.now() - minutes(10)) });
    await env.LAKE.delete(seeded.key);

    expect((await resumeStalledUploads({ db, env }, new Date())).resumed).toContain(seeded.id);
    const failed = await waitForUpload(app, user, seeded.id);
    expect(failed).toMatchObject({ status: "failed", error: { code: "FILE_MISSING" } });
    expect(failed.error?.message).toContain("send the file again");

    // Re-sending the file restarts the same upload from the re-sent copy.
    const again = await uploadOk(app, user, bytes, 200);
    expect(again).toMatchObject({ uploadId: seeded.id, status: "queued" });
    expect(await waitForUpload(app, user, seeded.id)).toMatchObject({
      status: "completed",
      error: null,
      counts: { ...none, accepted: 3 },
    });
    const stored = await row(seeded.id);
    expect(await env.LAKE.head(stored.r2Key)).not.toBeNull();
    expect((await env.LAKE.list({ prefix: `raw/${user.user.id}/` })).objects.map((o) => o.key)).toEqual([stored.r2Key]);
  });

  it("fails an upload after too many resumes without progress; re-sending the file restarts it", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(2, { prefix: crypto.randomUUID() });
    const seeded = await seedUpload(user, bytes, 2);
    await db
      .update(uploads)
      .set({ status: "processing", resumeAttempts: MAX_RESUMES, updatedAt: new Date(Date.now() - minutes(10)) })
      .where(eq(uploads.id, seeded.id));
    const sent: IngestMessage[] = [];

    const swept = await resumeStalledUploads({ db, env: { ...env, INGEST: lossyQueue(sent) } }, new Date());
    expect(swept.failed).toContain(seeded.id);
    expect(sent.filter((message) => message.uploadId === seeded.id)).toEqual([]);
    const failed = await getUpload(app, user, seeded.id);
    expect(failed).toMatchObject({ status: "failed", error: { code: "STALLED" } });
    expect(failed.error?.message).toContain("send the file again");

    expect(await uploadOk(app, user, bytes, 200)).toMatchObject({ uploadId: seeded.id, status: "queued" });
    expect(await waitForUpload(app, user, seeded.id)).toMatchObject({ status: "completed", counts: { ...none, accepted: 2 } });
  });
});

describe("a long ingestion that is making progress", () => {
  it("is left alone by the sweeper and by a re-sent file while its store counts chunks, and resumed once they stop", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(25, { prefix: crypto.randomUUID(), samples: 1000 });
    // Started ten minutes ago, after resumes that made no progress: its D1 row alone looks stalled.
    const seeded = await seedUpload(user, bytes, 25, { status: "processing" });
    await db
      .update(uploads)
      .set({ resumeAttempts: MAX_RESUMES, updatedAt: new Date(Date.now() - minutes(10)) })
      .where(eq(uploads.id, seeded.id));
    const sent: IngestMessage[] = [];
    const lossy = { db, env: { ...env, INGEST: lossyQueue(sent) } };
    expect(await ingestUpload({ ...lossy, maxChunksPerRun: 1 }, seeded.message)).toBe("continued");
    expect((await row(seeded.id)).updatedAt.getTime()).toBeLessThan(Date.now() - minutes(9));

    const swept = await resumeStalledUploads(lossy, new Date());
    expect([...swept.resumed, ...swept.failed]).not.toContain(seeded.id);
    expect(await uploadOk(app, user, bytes, 200)).toMatchObject({ uploadId: seeded.id, status: "processing" });
    const mine = () => sent.filter((message) => message.uploadId === seeded.id);
    expect(mine()).toEqual([seeded.message]); // its own continuation, nothing more

    // Five minutes without a chunk: stalled. It made progress since it was started, so it is
    // resumed with its counter back at 1 rather than failed.
    const later = await resumeStalledUploads(lossy, new Date(Date.now() + minutes(5)));
    expect(later.resumed).toContain(seeded.id);
    expect(mine().at(-1)).toMatchObject({ resume: 1 });
    expect(await getUpload(app, user, seeded.id)).toMatchObject({ status: "processing", counts: { ...none, accepted: 10000 } });
  });
});

describe("re-sending the file of an unfinished upload", () => {
  it("resumes it at once when it has made no progress, and it completes with exact counts", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(25, { prefix: crypto.randomUUID(), samples: 1000 });
    const seeded = await seedUpload(user, bytes, 25);
    await ingestUpload({ db, env: { ...env, INGEST: lossyQueue() }, maxChunksPerRun: 2 }, seeded.message);
    // The job stopped after two chunks some time ago.
    const ago = Date.now() - RESEND_RESUMES_AFTER_MS - 1000;
    await db
      .update(uploads)
      .set({ updatedAt: new Date(ago) })
      .where(eq(uploads.id, seeded.id));
    await backdateProgress(user.user.id, seeded.id, ago);

    const again = await uploadOk(app, user, bytes, 200);
    expect(again).toMatchObject({ uploadId: seeded.id, status: "processing" });
    expect(await waitForUpload(app, user, seeded.id)).toMatchObject({
      status: "completed",
      counts: { ...none, accepted: 25000 },
    });
    expect(await storedCounts(user.user.id)).toMatchObject({ observations: 25000 });
    expect((await env.LAKE.list({ prefix: `raw/${user.user.id}/` })).objects.map((o) => o.key)).toEqual([seeded.key]);
  });

  it("leaves an upload that is making progress alone: no second delivery", async () => {
    const user = await createSessionUser();
    const bytes = await heartRateFile(2, { prefix: crypto.randomUUID() });
    const seeded = await seedUpload(user, bytes, 2);
    await db.update(uploads).set({ status: "processing" }).where(eq(uploads.id, seeded.id));
    const before = await row(seeded.id);

    expect(await uploadOk(app, user, bytes, 200)).toMatchObject({ uploadId: seeded.id, status: "processing" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await row(seeded.id);
    expect(after).toMatchObject({ status: "processing", accepted: 0, resumeAttempts: 0 });
    expect(after.updatedAt).toEqual(before.updatedAt);
    expect((await env.LAKE.list({ prefix: `raw/${user.user.id}/` })).objects.map((o) => o.key)).toEqual([seeded.key]);
  });
});
