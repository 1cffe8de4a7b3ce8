/**
 * The ingest job's writes to an upload row. Each is conditional on the state the job expects, so
 * two deliveries of the same message (queues deliver at least once) cannot both advance it:
 * the one whose condition no longer holds learns it has been overtaken and stops.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type UploadRow, uploads } from "../db/schema";

export interface ChunkCounts {
  accepted: number;
  duplicate: number;
  flagged: number;
  rejected: number;
}

/** `queued` (or a retried `processing`) → `processing`; null when the upload is done or gone. */
export async function startProcessing(db: Db, userId: string, id: string): Promise<UploadRow | null> {
  const [row] = await db
    .update(uploads)
    .set({ status: "processing", updatedAt: new Date() })
    .where(and(eq(uploads.id, id), eq(uploads.userId, userId), inArray(uploads.status, ["queued", "processing"])))
    .returning();
  return row ?? null;
}

/** Records chunk `index` as written, adding its counts; false if another delivery got there first. */
export async function recordChunk(db: Db, id: string, index: number, counts: ChunkCounts): Promise<boolean> {
  const rows = await db
    .update(uploads)
    .set({
      chunksDone: index + 1,
      accepted: sql`${uploads.accepted} + ${counts.accepted}`,
      duplicate: sql`${uploads.duplicate} + ${counts.duplicate}`,
      flagged: sql`${uploads.flagged} + ${counts.flagged}`,
      rejected: sql`${uploads.rejected} + ${counts.rejected}`,
      // Progress: the resumes that led here were not in vain (./resume.ts).
      resumeAttempts: 0,
      updatedAt: new Date(),
    })
    .where(and(eq(uploads.id, id), eq(uploads.status, "processing"), eq(uploads.chunksDone, index)))
    .returning({ id: uploads.id });
  return rows.length === 1;
}

export async function completeUpload(db: Db, id: string): Promise<void> {
  const now = new Date();
  await db
    .update(uploads)
    .set({ status: "completed", errorCode: null, errorMessage: null, updatedAt: now, completedAt: now })
    .where(and(eq(uploads.id, id), eq(uploads.status, "processing")));
}

/** Keeps the latest failure on a row still being retried, for the dead-letter path to report. */
export async function recordAttemptError(db: Db, id: string, error: { code: string; message: string }): Promise<void> {
  await db
    .update(uploads)
    .set({ errorCode: error.code, errorMessage: error.message, updatedAt: new Date() })
    .where(and(eq(uploads.id, id), eq(uploads.status, "processing")));
}
