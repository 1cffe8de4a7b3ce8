import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { ConfigError, parseConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { uploads } from "../../src/db/schema";
import {
  purgeExpiredRawUploads,
  purgeExpiredRawUploadsJobFor,
  type RawUploadRetentionMessage,
  rawUploadRetentionJobFor,
} from "../../src/retention/raw-uploads";
import { defaultSchedule } from "../../src/scheduled/handler";
import { rawKey } from "../../src/uploads/create-upload";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { createTestApp } from "./helpers/test-app";
import { getUpload, storedCounts, uploadOk, waitForUpload } from "./helpers/upload-api";
import { SAMPLES, sampleBytes, sha256Hex } from "./helpers/upload-files";

/**
 * Retention of original uploaded files (src/retention/raw-uploads.ts, docs/retention.md). The job
 * works on every user's uploads at once, so each test dates its own uploads in a window of its
 * own (a year in the distant past) and measures retention from just after it: no test sees
 * another's uploads as expired.
 */
const app = createTestApp();
const db = () => getDb(env.DB);
const DAY_MS = 24 * 60 * 60 * 1000;

/** A finished upload received at `createdAt`, its file in R2, as the ingest job leaves one. */
async function seedFinished(
  user: SessionUser,
  createdAt: Date,
  status: "completed" | "failed" | "queued" = "completed",
  sha256 = crypto.randomUUID().replaceAll("-", "").padEnd(64, "0"),
) {
  const id = newId("upl");
  const key = rawKey(user.user.id, "Steps", createdAt, id);
  await env.LAKE.put(key, new Uint8Array([1, 2, 3]));
  await db().insert(uploads).values({
    id,
    userId: user.user.id,
    deviceId: null,
    sha256,
    recordType: "Steps",
    fileName: null,
    byteSize: 3,
    r2Key: key,
    status,
    recordCount: 1,
    createdAt,
    updatedAt: createdAt,
  });
  return { id, key };
}

async function kept(key: string): Promise<boolean> {
  return (await env.LAKE.head(key)) !== null;
}

function yearOf(year: number, dayOfYear: number): Date {
  return new Date(Date.UTC(year, 0, 1) + dayOfYear * DAY_MS);
}

describe("raw upload retention", () => {
  it("deletes an old upload's file, keeps a recent one's, and the upload and its observations stay readable", async () => {
    const user = await createSessionUser();
    const old = await uploadOk(app, user, sampleBytes(SAMPLES.Steps));
    const recent = await uploadOk(app, user, sampleBytes(SAMPLES.HeartRate));
    const oldDone = await waitForUpload(app, user, old.uploadId);
    await waitForUpload(app, user, recent.uploadId);
    expect(oldDone.status).toBe("completed");
    expect(oldDone.originalFile).toStrictEqual({ kept: true, deletedAt: null });
    const before = await storedCounts(user.user.id);
    expect(before.observations).toBeGreaterThan(0);

    // The old upload was received 400 days before `asOf`, the recent one 10 days before.
    const asOf = yearOf(1991, 200);
    const [oldRow] = await db()
      .update(uploads)
      .set({ createdAt: new Date(asOf.getTime() - 400 * DAY_MS) })
      .where(eq(uploads.id, old.uploadId))
      .returning();
    const [recentRow] = await db()
      .update(uploads)
      .set({ createdAt: new Date(asOf.getTime() - 10 * DAY_MS) })
      .where(eq(uploads.id, recent.uploadId))
      .returning();
    if (!oldRow || !recentRow) throw new Error("uploads not found");
    expect(await kept(oldRow.r2Key)).toBe(true);

    const now = new Date();
    const result = await purgeExpiredRawUploads(env, { asOf, retentionDays: 365, now });
    expect(result).toStrictEqual({ purged: 1, more: false });
    expect(await kept(oldRow.r2Key)).toBe(false);
    expect(await kept(recentRow.r2Key)).toBe(true);

    const oldView = await getUpload(app, user, old.uploadId);
    expect(oldView.originalFile).toStrictEqual({ kept: false, deletedAt: now.toISOString() });
    expect(oldView).toMatchObject({ status: "completed", counts: oldDone.counts, recordCount: oldDone.recordCount });
    expect((await getUpload(app, user, recent.uploadId)).originalFile).toStrictEqual({ kept: true, deletedAt: null });
    expect(await storedCounts(user.user.id)).toStrictEqual(before);

    // The deletion is in the person's audit trail, by the retention job, with its reason.
    const log = await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 500 });
    const purges = log.items.filter((event) => event.action === "upload.purge_raw");
    expect(purges).toHaveLength(1);
    expect(purges[0]).toMatchObject({
      actor: "system:retention",
      role: "system",
      resource: `upload:${old.uploadId}`,
      subject: user.user.id,
      result: "success",
      reason: "retention: original files are kept 365 days",
    });

    // Idempotent: a second run finds nothing more and audits nothing more.
    expect(await purgeExpiredRawUploads(env, { asOf, retentionDays: 365 })).toStrictEqual({ purged: 0, more: false });
    const again = await healthStoreFor(env.HEALTH_STORE, user.user.id).accessLog({ limit: 500 });
    expect(again.items.filter((event) => event.action === "upload.purge_raw")).toHaveLength(1);
    expect((await getUpload(app, user, old.uploadId)).originalFile.deletedAt).toBe(now.toISOString());
  });

  it("works in bounded passes, oldest first, and leaves unfinished uploads alone", async () => {
    const user = await createSessionUser();
    const seeded = [];
    for (let day = 0; day < 7; day++)
      seeded.push(await seedFinished(user, yearOf(1981, day * 10), day === 3 ? "failed" : "completed"));
    const unfinished = await seedFinished(user, yearOf(1981, 5), "queued");
    const asOf = yearOf(1983, 0); // cutoff: early 1982

    const first = await purgeExpiredRawUploads(env, { asOf, retentionDays: 365 }, { pageSize: 2, maxPages: 2 });
    expect(first).toStrictEqual({ purged: 4, more: true });
    const states = await Promise.all(seeded.map((upload) => kept(upload.key)));
    expect(states).toEqual([false, false, false, false, true, true, true]);

    const second = await purgeExpiredRawUploads(env, { asOf, retentionDays: 365 }, { pageSize: 2, maxPages: 2 });
    expect(second).toStrictEqual({ purged: 3, more: false });
    for (const upload of seeded) expect(await kept(upload.key)).toBe(false);
    expect(await kept(unfinished.key)).toBe(true);

    const rows = await db()
      .select({ id: uploads.id, rawPurgedAt: uploads.rawPurgedAt })
      .from(uploads)
      .where(inArray(uploads.id, [...seeded.map((upload) => upload.id), unfinished.id]));
    expect(rows.filter((row) => row.rawPurgedAt !== null)).toHaveLength(7);
    expect(rows.find((row) => row.id === unfinished.id)?.rawPurgedAt).toBeNull();

    expect(await purgeExpiredRawUploads(env, { asOf, retentionDays: 365 }, { pageSize: 2, maxPages: 2 })).toStrictEqual({
      purged: 0,
      more: false,
    });
  });

  it("runs daily from the cron, hands the rest over to the SYNC queue, and keeps everything when set to forever", async () => {
    expect(defaultSchedule["30 3 * * *"]?.map((job) => job.name)).toContain("purgeExpiredRawUploads");
    const user = await createSessionUser();
    const seeded = [await seedFinished(user, yearOf(1971, 1)), await seedFinished(user, yearOf(1971, 2))];
    const scheduledTime = yearOf(1973, 0);
    const sent: RawUploadRetentionMessage[] = [];
    const deps = {
      limits: { pageSize: 1, maxPages: 1 },
      continueLater: async (_env: Env, message: RawUploadRetentionMessage) => {
        sent.push(message);
      },
    };

    await purgeExpiredRawUploadsJobFor(deps).run({ ...env, RAW_UPLOAD_RETENTION_DAYS: "forever" }, scheduledTime);
    expect(await kept(seeded[0]?.key ?? "")).toBe(true);
    expect(sent).toEqual([]);

    await purgeExpiredRawUploadsJobFor(deps).run(env, scheduledTime);
    expect(await kept(seeded[0]?.key ?? "")).toBe(false);
    expect(await kept(seeded[1]?.key ?? "")).toBe(true);
    expect(sent).toEqual([{ type: "retention.raw_uploads", asOf: scheduledTime.toISOString() }]);

    const job = rawUploadRetentionJobFor(deps);
    const message = job.schema.parse(sent[0]);
    await job.run(message, { env, ctx: createExecutionContext(), messageId: "m1", attempts: 1 });
    expect(await kept(seeded[1]?.key ?? "")).toBe(false);
    // The pass hit its bound again (one upload), so it handed over once more; that one finds nothing.
    expect(sent).toHaveLength(2);
    await job.run(job.schema.parse(sent[1]), { env, ctx: createExecutionContext(), messageId: "m2", attempts: 1 });
    expect(sent).toHaveLength(2);
    expect(job.schema.safeParse({ type: "retention.raw_uploads", asOf: "yesterday" }).success).toBe(false);
  });

  it("lets a failed upload whose file was deleted be retried by sending the same file again", async () => {
    const user = await createSessionUser();
    const bytes = sampleBytes(SAMPLES.Steps);
    const failed = await seedFinished(user, yearOf(1961, 1), "failed", await sha256Hex(bytes));
    await purgeExpiredRawUploads(env, { asOf: yearOf(1963, 0), retentionDays: 365 });
    expect((await getUpload(app, user, failed.id)).originalFile.kept).toBe(false);

    const receipt = await uploadOk(app, user, bytes, 200);
    expect(receipt.uploadId).toBe(failed.id);
    const done = await waitForUpload(app, user, failed.id);
    expect(done.status).toBe("completed");
    expect(done.originalFile).toStrictEqual({ kept: true, deletedAt: null });
    const [row] = await db().select().from(uploads).where(eq(uploads.id, failed.id));
    expect(await kept(row?.r2Key ?? "")).toBe(true);
  });

  it("reads RAW_UPLOAD_RETENTION_DAYS as days or forever, 365 when unset, and refuses zero", () => {
    const base = { ...env } as unknown as Record<string, unknown>;
    expect(parseConfig({ ...base, RAW_UPLOAD_RETENTION_DAYS: undefined }).RAW_UPLOAD_RETENTION_DAYS).toBe(365);
    expect(parseConfig({ ...base, RAW_UPLOAD_RETENTION_DAYS: "30" }).RAW_UPLOAD_RETENTION_DAYS).toBe(30);
    expect(parseConfig({ ...base, RAW_UPLOAD_RETENTION_DAYS: "forever" }).RAW_UPLOAD_RETENTION_DAYS).toBe("forever");
    for (const bad of ["0", "-5", "1.5", "never", "", "99999"]) {
      expect(() => parseConfig({ ...base, RAW_UPLOAD_RETENTION_DAYS: bad }), bad).toThrow(ConfigError);
    }
  });
});
