/**
 * Retention of original uploaded files (docs/retention.md). An upload's Avro file stays in R2
 * (`raw/{userId}/…`) for `RAW_UPLOAD_RETENTION_DAYS` after it was received, then the daily job
 * deletes it and records that on the upload row (`raw_purged_at`). The observations read from it
 * stay in the person's HealthStore, and `GET /v1/uploads/:id` says the file is no longer kept.
 *
 * Only finished uploads (completed or failed) are eligible: an unfinished one still needs its file,
 * and the stalled-upload sweeper ends those long before any retention period. A failed upload
 * whose file was deleted can still be retried by sending the same file again (the re-sent copy is
 * adopted, src/uploads/resend-upload.ts).
 *
 * Each pass is bounded (`maxPages` × `pageSize` uploads) so one run stays well inside a Worker
 * invocation's subrequest and time limits; when more remain, the job hands over to a
 * `retention.raw_uploads` message on the SYNC queue, which runs the next pass with the same
 * cutoff, and so on until none remain.
 *
 * Order per page: delete the R2 objects, mark the rows, then record `upload.purge_raw` in each
 * person's HealthStore audit (deleting a file of health data is a write of it). Any step failing
 * leaves the rows unmarked or marked-but-unaudited; the next pass repeats R2 deletes harmlessly
 * (deleting a missing key succeeds), so the job is idempotent.
 */
import { and, asc, inArray, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import { getConfig } from "../config/config";
import { getDb } from "../db/client";
import { uploads } from "../db/schema";
import { errorName, log } from "../observability/log";
import type { Job } from "../queues/consumer";
import type { ScheduledJob } from "../scheduled/handler";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RawPurgeLimits {
  /** Uploads per page: one R2 delete, one D1 select and update, and one audit RPC each. */
  pageSize: number;
  /** Pages per pass; a pass touches at most pageSize × maxPages uploads. */
  maxPages: number;
}

/** ~530 subrequests a pass: far under a Worker invocation's limit, with room for the rest. */
export const DEFAULT_RAW_PURGE_LIMITS: RawPurgeLimits = { pageSize: 50, maxPages: 10 };

export interface RawPurgeResult {
  purged: number;
  /** True when the pass stopped at its bound with eligible uploads left. */
  more: boolean;
}

const RETENTION_ACTOR: Omit<AuditContext, "reason"> = {
  actor: "system:retention",
  role: "system",
  requestId: null,
  ip: null,
};

const FINISHED = ["completed", "failed"] as const;

/** Deletes the original files of finished uploads received before `asOf - retentionDays`. */
export async function purgeExpiredRawUploads(
  env: Pick<Env, "DB" | "LAKE" | "HEALTH_STORE">,
  options: { asOf: Date; retentionDays: number; now?: Date },
  limits: RawPurgeLimits = DEFAULT_RAW_PURGE_LIMITS,
): Promise<RawPurgeResult> {
  const db = getDb(env.DB);
  const cutoff = new Date(options.asOf.getTime() - options.retentionDays * DAY_MS);
  const eligible = and(isNull(uploads.rawPurgedAt), lt(uploads.createdAt, cutoff), inArray(uploads.status, [...FINISHED]));
  const reason = `retention: original files are kept ${options.retentionDays} days`;
  let purged = 0;
  for (let page = 0; page < limits.maxPages; page++) {
    const rows = await db
      .select({ id: uploads.id, userId: uploads.userId, r2Key: uploads.r2Key })
      .from(uploads)
      .where(eligible)
      .orderBy(asc(uploads.createdAt), asc(uploads.id))
      .limit(limits.pageSize);
    if (rows.length === 0) return { purged, more: false };

    await env.LAKE.delete(rows.map((row) => row.r2Key));
    // Matching the key too: an upload that adopted a re-sent copy meanwhile keeps it.
    const marked = await db
      .update(uploads)
      .set({ rawPurgedAt: options.now ?? new Date() })
      .where(
        and(
          inArray(
            uploads.id,
            rows.map((row) => row.id),
          ),
          inArray(
            uploads.r2Key,
            rows.map((row) => row.r2Key),
          ),
          isNull(uploads.rawPurgedAt),
        ),
      )
      .returning({ id: uploads.id, userId: uploads.userId });
    purged += marked.length;
    await auditPurges(env, marked, reason);
    // Nothing marked means every row changed under us; stop rather than spin on them.
    if (marked.length === 0 || rows.length < limits.pageSize) return { purged, more: false };
  }
  return { purged, more: true };
}

/** One `upload.purge_raw` event per upload in its owner's HealthStore, people in parallel. */
async function auditPurges(env: Pick<Env, "HEALTH_STORE">, marked: { id: string; userId: string }[], reason: string) {
  const byUser = Map.groupBy(marked, (row) => row.userId);
  await Promise.all(
    [...byUser].map(async ([userId, rows]) => {
      const store = healthStoreFor(env.HEALTH_STORE, userId);
      for (const row of rows) {
        try {
          await store.appendAuditEvent(
            { action: "upload.purge_raw", resource: `upload:${row.id}`, result: "success" },
            { ...RETENTION_ACTOR, reason, subject: userId },
          );
        } catch (error) {
          // The row already records the deletion; a missing audit event is logged, not fatal.
          log("error", "raw upload purge not audited", { userId, uploadId: row.id, error: errorName(error) });
        }
      }
    }),
  );
}

export const rawUploadRetentionMessage = z.strictObject({
  type: z.literal("retention.raw_uploads"),
  /** The instant the cron pass measured retention from; continuations keep it. */
  asOf: z.iso.datetime(),
});
export type RawUploadRetentionMessage = z.infer<typeof rawUploadRetentionMessage>;

export interface RawPurgeDeps {
  limits: RawPurgeLimits;
  /** Hands the rest over to a later invocation. */
  continueLater(env: Env, message: RawUploadRetentionMessage): Promise<void>;
}

const defaultDeps: RawPurgeDeps = {
  limits: DEFAULT_RAW_PURGE_LIMITS,
  continueLater: async (env, message) => {
    await env.SYNC.send(message);
  },
};

async function runPass(env: Env, asOf: Date, deps: RawPurgeDeps): Promise<RawPurgeResult | null> {
  const days = getConfig(env).RAW_UPLOAD_RETENTION_DAYS;
  if (days === "forever") return null;
  const result = await purgeExpiredRawUploads(env, { asOf, retentionDays: days }, deps.limits);
  if (result.purged > 0) log("info", "expired raw uploads purged", { purged: result.purged, more: result.more });
  if (result.more) await deps.continueLater(env, { type: "retention.raw_uploads", asOf: asOf.toISOString() });
  return result;
}

export function purgeExpiredRawUploadsJobFor(deps: Partial<RawPurgeDeps> = {}): ScheduledJob {
  const resolved = { ...defaultDeps, ...deps };
  return {
    name: "purgeExpiredRawUploads",
    async run(env, scheduledTime) {
      await runPass(env, scheduledTime, resolved);
    },
  };
}

export function rawUploadRetentionJobFor(deps: Partial<RawPurgeDeps> = {}): Job<RawUploadRetentionMessage> {
  const resolved = { ...defaultDeps, ...deps };
  return {
    schema: rawUploadRetentionMessage,
    async run(body, context) {
      await runPass(context.env, new Date(body.asOf), resolved);
    },
  };
}

/** The daily cron job (src/scheduled/handler.ts). */
export const purgeExpiredRawUploadsJob = purgeExpiredRawUploadsJobFor();
/** Its continuation on the SYNC queue (src/queues/consumer.ts). */
export const rawUploadRetentionJob = rawUploadRetentionJobFor();
