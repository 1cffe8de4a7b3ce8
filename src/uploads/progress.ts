/**
 * The ingest job's writes to an upload's D1 row: when it starts, when it ends, and the error of an
 * attempt that will be retried; never per chunk. Chunk by chunk, progress is kept in the user's
 * HealthStore, in the transaction that writes the chunk (durable-objects/health-store/upload-progress.ts),
 * so a large file costs D1's single writer the same few writes as a small one. Each write here is
 * conditional on the state the job expects, so two deliveries of the same message cannot both
 * move the row; which of them writes a chunk is settled in the store.
 */
import { and, eq } from "drizzle-orm";
import type { UploadProgress, UploadProgressSeed } from "../../durable-objects/health-store/upload-progress";
import type { Db } from "../db/client";
import { type UploadRow, uploads } from "../db/schema";
import { findUpload } from "./uploads";

/**
 * The upload to work on, `queued` → `processing` (the only write, once per upload or restart; a
 * continuation or retry only reads); null when the upload is done or gone.
 */
export async function startProcessing(db: Db, userId: string, id: string): Promise<UploadRow | null> {
  const row = await findUpload(db, userId, id);
  if (row?.status === "processing") return row;
  if (row?.status !== "queued") return null;
  const [started] = await db
    .update(uploads)
    .set({ status: "processing", updatedAt: new Date() })
    .where(and(eq(uploads.id, id), eq(uploads.userId, userId), eq(uploads.status, "queued")))
    .returning();
  if (started !== undefined) return started;
  // Another delivery started it a moment ago: the store decides which of the two writes each chunk.
  const again = await findUpload(db, userId, id);
  return again?.status === "processing" ? again : null;
}

/** What D1 knew of an upload's progress: seeds the store's record for an upload begun before it kept one. */
export function progressSeed(row: UploadRow): UploadProgressSeed {
  return {
    chunksDone: row.chunksDone,
    accepted: row.accepted,
    duplicate: row.duplicate,
    flagged: row.flagged,
    rejected: row.rejected,
  };
}

/** Completes the upload with its final counts, which D1 keeps from now on. */
export async function completeUpload(db: Db, id: string, progress: UploadProgress): Promise<void> {
  const now = new Date();
  await db
    .update(uploads)
    .set({
      status: "completed",
      chunksDone: progress.chunksDone,
      accepted: progress.accepted,
      duplicate: progress.duplicate,
      flagged: progress.flagged,
      rejected: progress.rejected,
      resumeAttempts: 0,
      errorCode: null,
      errorMessage: null,
      updatedAt: now,
      completedAt: now,
    })
    .where(and(eq(uploads.id, id), eq(uploads.status, "processing")));
}

/** Keeps the latest failure on a row still being retried, for the dead-letter path to report. */
export async function recordAttemptError(db: Db, id: string, error: { code: string; message: string }): Promise<void> {
  await db
    .update(uploads)
    .set({ errorCode: error.code, errorMessage: error.message, updatedAt: new Date() })
    .where(and(eq(uploads.id, id), eq(uploads.status, "processing")));
}
