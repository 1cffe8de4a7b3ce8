import { z } from "zod";
import { idPattern } from "../../src/db/ids";
import { DomainError } from "../../src/errors/domain-error";
import type { BatchIngestResult } from "./batch-schema";
import { askForRefresh } from "./narratives";

/**
 * Each upload's ingest progress (store migration v7): how many of its chunks are written and what
 * they counted. The ingest job (src/uploads/ingest-upload.ts) writes a chunk's rows and advances
 * this row in one transaction, so a crash can no longer leave rows written but uncounted, and two
 * deliveries of the same message cannot both write a chunk: the second finds `chunks_done` moved
 * and is refused before it writes anything. D1 holds the upload's final counts once it completes;
 * until then the status routes and the stalled-upload sweeper read them here.
 */
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const uploadIdSchema = z.string().regex(idPattern("upl"), "not an upload id");
/** A page of the upload list at most (src/http/schemas.ts), or a sweeper page. */
export const uploadIdsSchema = z.array(uploadIdSchema).max(100);

/** Where an upload stood before its progress was kept here (an upload in flight across a deploy). */
export const uploadProgressSeedSchema = z.strictObject({
  chunksDone: count,
  accepted: count,
  duplicate: count,
  flagged: count,
  rejected: count,
});
export type UploadProgressSeed = z.output<typeof uploadProgressSeedSchema>;

/** The chunk a write is for, with the counts only the caller knows (mapping happens in the Worker). */
export const uploadChunkSchema = z.strictObject({ uploadId: uploadIdSchema, index: count, flagged: count, rejected: count });
export type UploadChunk = z.output<typeof uploadChunkSchema>;

export interface UploadProgress extends UploadProgressSeed {
  uploadId: string;
  /** Epoch ms of the last chunk written (or of the first run, before any). */
  updatedAt: number;
}

/** Said when a chunk's write finds another delivery of the same job got there first. */
export const OVERTAKEN = "upload.overtaken";

type Row = {
  upload_id: string;
  chunks_done: number;
  accepted: number;
  duplicate: number;
  flagged: number;
  rejected: number;
  updated_at: number;
};
const COLUMNS = "upload_id, chunks_done, accepted, duplicate, flagged, rejected, updated_at";

function progressOf(row: Row): UploadProgress {
  return {
    uploadId: row.upload_id,
    chunksDone: row.chunks_done,
    accepted: row.accepted,
    duplicate: row.duplicate,
    flagged: row.flagged,
    rejected: row.rejected,
    updatedAt: row.updated_at,
  };
}

/**
 * The progress of the uploads named that have any. Reads without migrating: a store that predates
 * the table (or was emptied by account deletion) has none, and a read must not recreate it.
 */
export function readUploadProgress(sql: SqlStorage, ids: readonly string[]): UploadProgress[] {
  const table = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'upload_progress'").toArray();
  if (table.length === 0 || ids.length === 0) return [];
  return sql
    .exec<Row>(`SELECT ${COLUMNS} FROM upload_progress WHERE upload_id IN (SELECT value FROM json_each(?))`, JSON.stringify(ids))
    .toArray()
    .map(progressOf);
}

/**
 * Account deletion, once the uploads' D1 rows are gone: every upload's progress goes, so a job
 * still running is refused its next chunk (`claimChunk`) and writes neither its rows nor, after
 * them, a lake part the deletion's lake step has already passed. Answers how many were ended.
 */
export function endAllUploads(sql: SqlStorage): number {
  const table = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'upload_progress'").toArray();
  if (table.length === 0) return 0;
  return sql.exec("DELETE FROM upload_progress").rowsWritten;
}

/** A run's start: the upload's progress, created from `seed` (D1's view of it) the first time. */
export function beginUploadRun(sql: SqlStorage, uploadId: string, seed: UploadProgressSeed, now: number): UploadProgress {
  sql.exec(
    `INSERT INTO upload_progress (upload_id, chunks_done, accepted, duplicate, flagged, rejected, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (upload_id) DO NOTHING`,
    uploadId,
    seed.chunksDone,
    seed.accepted,
    seed.duplicate,
    seed.flagged,
    seed.rejected,
    now,
  );
  return progressOf(sql.exec<Row>(`SELECT ${COLUMNS} FROM upload_progress WHERE upload_id = ?`, uploadId).one());
}

/** Refuses the chunk unless it is the next one: run before anything of it is written. */
export function claimChunk(sql: SqlStorage, chunk: UploadChunk): void {
  const [row] = sql
    .exec<{ chunks_done: number }>("SELECT chunks_done FROM upload_progress WHERE upload_id = ?", chunk.uploadId)
    .toArray();
  if (row?.chunks_done !== chunk.index) {
    throw new DomainError("CONFLICT", "Another delivery of this upload's job has moved it on.", {
      extensions: { reason: OVERTAKEN },
    });
  }
}

/** Counts the chunk as written (`result` is null for a chunk with no records to store). */
export function recordChunkProgress(
  sql: SqlStorage,
  chunk: UploadChunk,
  result: BatchIngestResult | null,
  now: number,
): UploadProgress {
  let accepted = 0;
  let duplicate = 0;
  for (const part of result === null ? [] : [result.observations, result.sleepSessions, result.workouts]) {
    accepted += part.accepted + part.replaced;
    duplicate += part.duplicate;
  }
  const row = sql
    .exec<Row>(
      `UPDATE upload_progress SET chunks_done = ?, accepted = accepted + ?, duplicate = duplicate + ?,
         flagged = flagged + ?, rejected = rejected + ?, refresh_wanted = MAX(refresh_wanted, ?), updated_at = ?
       WHERE upload_id = ? RETURNING ${COLUMNS}`,
      chunk.index + 1,
      accepted,
      duplicate,
      chunk.flagged,
      chunk.rejected,
      accepted > 0 ? 1 : 0,
      now,
      chunk.uploadId,
    )
    .one();
  return progressOf(row);
}

/**
 * A run's end (completed, failed, or retrying after an error): its progress, and whether the
 * caller should queue the narrative refresh the upload's stored chunks call for. Chunks only mark
 * narratives stale and note the newest data; asking once here makes an upload of any size one
 * refresh message rather than one per chunk.
 */
export function endUploadRun(
  sql: SqlStorage,
  uploadId: string,
  now: number,
): { progress: UploadProgress | null; narrativesRefresh: boolean } {
  const [row] = sql
    .exec<Row & { refresh_wanted: number }>(
      `SELECT ${COLUMNS}, refresh_wanted FROM upload_progress WHERE upload_id = ?`,
      uploadId,
    )
    .toArray();
  if (row === undefined) return { progress: null, narrativesRefresh: false };
  if (row.refresh_wanted === 0) return { progress: progressOf(row), narrativesRefresh: false };
  sql.exec("UPDATE upload_progress SET refresh_wanted = 0 WHERE upload_id = ?", uploadId);
  return { progress: progressOf(row), narrativesRefresh: askForRefresh(sql, now) };
}
