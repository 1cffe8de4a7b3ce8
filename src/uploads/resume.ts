/**
 * Resuming an upload whose ingest job stopped making progress: a lost queue message, a consumer
 * that died between chunks, a continuation that could not be queued. Nothing in the queue notices
 * those, so the stalled-upload sweeper (./resume-stalled.ts) and a re-sent file (./resend-upload.ts)
 * do: they claim the upload here and queue a fresh `upload.ingest` message for it.
 *
 * A resume is the same resumable job as a retry (./ingest-upload.ts): chunks the user's HealthStore
 * already counted in the upload's progress are skipped, so nothing is written or counted twice.
 *
 * Every write is conditional on the `updated_at` the caller saw, so a job that made progress in
 * the meantime (or another sweeper run) wins and the upload is left alone.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type UploadRow, uploads } from "../db/schema";

/**
 * An unfinished upload with no progress for this long is stalled. Longer than the INGEST queue's
 * longest retry backoff (5 retries: 10…160 s, src/queues/consumer.ts) plus a run, so an upload
 * the queue is still retrying is not resumed beside it; short enough that with the sweeper's
 * 5-minute cron a stalled upload is resumed within 10 minutes.
 */
export const STALLED_AFTER_MS = 4 * 60_000;

/**
 * A re-sent file resumes its unfinished upload once it has made no progress for this long. A
 * running job records a chunk in the store every few seconds (./live-progress.ts), so a phone
 * re-sending a file while it is being ingested does not start a second, competing delivery.
 */
export const RESEND_RESUMES_AFTER_MS = 30_000;

/** Resumes without progress before the upload fails (each resume that writes a chunk resets it). */
export const MAX_RESUMES = 5;

export const UNFINISHED = ["queued", "processing"] as const;

export const STALLED_FAILURE = {
  code: "STALLED",
  message: "Processing stopped making progress and could not be resumed; send the file again to retry.",
} as const;

export const FILE_MISSING_FAILURE = {
  code: "FILE_MISSING",
  message: "The uploaded file is no longer stored; send the file again.",
} as const;

export interface SeenUpload {
  id: string;
  updatedAt: Date;
}

function unchanged(seen: SeenUpload) {
  return and(eq(uploads.id, seen.id), inArray(uploads.status, [...UNFINISHED]), eq(uploads.updatedAt, seen.updatedAt));
}

/**
 * Claims a stalled upload for one more resume (`resume_attempts` + 1, or back to 1 when a person
 * re-sent the file); null when it moved since it was seen.
 */
export function claimResume(db: Db, seen: SeenUpload, now: Date, options: { resetAttempts?: boolean } = {}) {
  return db
    .update(uploads)
    .set({
      resumeAttempts: options.resetAttempts ? 1 : sql`${uploads.resumeAttempts} + 1`,
      updatedAt: now,
    })
    .where(unchanged(seen))
    .returning();
}

/** Fails a stalled upload that used up its resumes, unless it moved since it was seen. */
export function failStalled(db: Db, seen: SeenUpload, now: Date) {
  return db
    .update(uploads)
    .set({ status: "failed", errorCode: STALLED_FAILURE.code, errorMessage: STALLED_FAILURE.message, updatedAt: now })
    .where(unchanged(seen))
    .returning();
}

/** Points an unfinished upload at another stored copy of the same bytes (the re-sent file). */
export async function replaceRawKey(db: Db, id: string, r2Key: string): Promise<void> {
  await db
    .update(uploads)
    .set({ r2Key, rawPurgedAt: null })
    .where(and(eq(uploads.id, id), inArray(uploads.status, [...UNFINISHED])));
}

/**
 * A failed upload back to `queued` for a re-sent file, from where it stopped: chunks written
 * before stay written and counted, so the counts still add up to one pass over the file.
 */
export async function restartFailed(db: Db, id: string, r2Key: string, now: Date): Promise<UploadRow | null> {
  const [row] = await db
    .update(uploads)
    // The key points at a stored copy (kept, or the re-sent one): a file the retention job had
    // deleted is kept again until the job's next pass finds it past retention once more.
    .set({ status: "queued", errorCode: null, errorMessage: null, resumeAttempts: 0, r2Key, rawPurgedAt: null, updatedAt: now })
    .where(and(eq(uploads.id, id), eq(uploads.status, "failed")))
    .returning();
  return row ?? null;
}
