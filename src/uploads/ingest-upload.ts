/**
 * The INGEST queue's `upload.ingest` job (DESIGN §5, §6): streams the stored file from R2 through
 * the Avro reader block by block, maps each record, and writes the result chunk by chunk — to the
 * user's HealthStore (idempotent per source record and version), counted in the upload's progress
 * in the same transaction, then the chunk's lake part in R2.
 *
 * D1 sees the upload when the job starts it (`queued` → `processing`) and when it ends (completed
 * with the final counts, or failed), never per chunk: its single writer is shared by every user,
 * and a 50 MiB file is hundreds of chunks. Meanwhile the status routes show the store's live
 * counts (./live-progress.ts).
 *
 * Retries resume: chunks are cut deterministically (./chunker.ts) and the store's progress says
 * how many were written, so a retry decodes the file again but writes only what is left, and the
 * counts add up to one pass over the file. A chunk's rows and its progress commit together, so a
 * crash at any point neither loses nor double-counts a chunk. Two deliveries of the same message
 * cannot both write a chunk: the store refuses the one that finds the progress moved, and that
 * delivery stops (`skipped`). A chunk's lake part is written after its commit; a crash between the
 * two is why a retry rewrites the last written chunk's part.
 *
 * Failures: a file that is damaged past the first block (checked at upload time) fails the upload
 * at once with the reader's error — retrying cannot fix a file — and the chunks before the damage
 * stay written; so does a raw object missing from R2 (`FILE_MISSING`: send the file again).
 * Anything else (R2, D1, the HealthStore unavailable) is thrown, so the queue retries with backoff
 * and, after the last try, the dead-letter path marks the upload failed.
 *
 * A job that stops without failing (a lost message, a consumer that died between chunks) is
 * resumed by the stalled-upload sweeper (./resume-stalled.ts) with a new message for the same job.
 *
 * Subrequests are budgeted: after `MAX_CHUNKS_PER_RUN` chunks the job queues its own continuation
 * and returns, so a 50 MiB file neither exhausts one invocation's limits nor holds up the other
 * messages of its batch for long.
 *
 * Narratives: each chunk that stores data marks the narratives it touches stale; the refresh job
 * is asked for once, when a run ends other than by handing over (src/narratives/refresh.ts), so
 * an upload of any size queues one refresh message, not one per chunk.
 */

import { type HealthStoreClient, healthStoreFor } from "../../durable-objects/health-store/client";
import { packObservations } from "../../durable-objects/health-store/packed";
import { OVERTAKEN } from "../../durable-objects/health-store/upload-progress";
import { AvroError, DEFAULT_AVRO_LIMITS, isAvroError, openContainer } from "../avro";
import type { Db } from "../db/client";
import type { UploadRow } from "../db/schema";
import { DomainError, isCallerError } from "../errors/domain-error";
import { mapRecords } from "../health-connect/map-record";
import { writeLakeChunk } from "../lake/writer";
import { queueNarrativeRefresh } from "../narratives/refresh";
import { errorName, log } from "../observability/log";
import { type Chunk, Chunker } from "./chunker";
import type { IngestMessage } from "./create-upload";
import { errorSummary } from "./file-errors";
import { completeUpload, progressSeed, recordAttemptError, startProcessing } from "./progress";
import { recordDecoderFor } from "./record-decoder";
import { FILE_MISSING_FAILURE } from "./resume";
import { markFailed } from "./uploads";

export const MAX_CHUNKS_PER_RUN = 100;

export interface IngestContext {
  db: Db;
  env: Env;
  /** Chunks to write before handing over to a continuation message (default MAX_CHUNKS_PER_RUN). */
  maxChunksPerRun?: number;
  /** Observations per chunk (default CHUNK_OBSERVATIONS): smaller makes many chunks of a small file. */
  chunkObservations?: number;
}

export type IngestOutcome = "completed" | "failed" | "continued" | "skipped";

/** Thrown when another delivery of the same message has moved the upload on. */
class Overtaken extends Error {}

/** The raw object is gone from R2: no retry can bring it back, only the person re-sending the file. */
class FileMissing extends Error {}

/** Errors that will recur on every attempt: the file's content, not the infrastructure. */
function isPermanent(error: unknown): boolean {
  return isAvroError(error) || (error instanceof DomainError && isCallerError(error.code));
}

export async function ingestUpload(ctx: IngestContext, message: IngestMessage): Promise<IngestOutcome> {
  const upload = await startProcessing(ctx.db, message.userId, message.uploadId);
  if (upload === null) return "skipped"; // completed, failed, or deleted with its user
  const store = healthStoreFor(ctx.env.HEALTH_STORE, upload.userId);

  try {
    const progress = await store.beginUploadRun(upload.id, progressSeed(upload));
    const outcome = await ingestChunks(ctx, store, upload, progress.chunksDone, message);
    if (outcome === "continued") {
      await ctx.env.INGEST.send(message, { contentType: "json" });
      return outcome;
    }
    const final = await endRun(ctx, store, upload);
    if (final === null) throw new Error("upload progress vanished from the store"); // deleted with its user: retried, then skipped
    await completeUpload(ctx.db, upload.id, final);
    log("info", "upload ingested", { uploadId: upload.id, userId: upload.userId, recordType: upload.recordType });
    return "completed";
  } catch (error) {
    if (error instanceof Overtaken) return "skipped";
    const summary = error instanceof FileMissing ? FILE_MISSING_FAILURE : errorSummary(error);
    if (error instanceof FileMissing || isPermanent(error)) {
      await markFailed(ctx.db, upload.id, summary);
      log("warn", "upload failed", { uploadId: upload.id, userId: upload.userId, error: summary.code });
      await endRunQuietly(ctx, store, upload);
      return "failed";
    }
    await recordAttemptError(ctx.db, upload.id, summary);
    await endRunQuietly(ctx, store, upload);
    throw error;
  }
}

async function ingestChunks(
  ctx: IngestContext,
  store: HealthStoreClient,
  upload: UploadRow,
  chunksDone: number,
  message: IngestMessage,
): Promise<"completed" | "continued"> {
  const object = await ctx.env.LAKE.get(upload.r2Key);
  if (object === null) throw new FileMissing();
  const container = await openContainer(object.body, { limits: DEFAULT_AVRO_LIMITS });
  const { recordType, decoder } = recordDecoderFor(container.header.schema);
  const chunker = new Chunker(ctx.chunkObservations);
  let written = 0;

  const flush = async (chunk: Chunk): Promise<boolean> => {
    if (chunk.index < chunksDone) {
      // Written by an earlier attempt; its lake part too unless it was that attempt's last chunk.
      if (chunk.index === chunksDone - 1) await writeLake(ctx, upload, chunk);
      return true;
    }
    if (written === (ctx.maxChunksPerRun ?? MAX_CHUNKS_PER_RUN)) return false;
    await writeChunk(ctx, store, upload, chunk, message.requestId);
    written++;
    return true;
  };

  let nextBlock = 0;
  try {
    try {
      for await (const block of container.blocks(decoder)) {
        nextBlock = block.index + 1;
        chunker.add(mapRecords(recordType, block.records));
        for (let chunk = chunker.take(); chunk !== null; chunk = chunker.take()) {
          if (!(await flush(chunk))) return "continued";
        }
      }
    } catch (error) {
      // The reader's positions are within the block; say which block, for the status route.
      if (isAvroError(error)) throw new AvroError(error.code, `block ${nextBlock}: ${error.message}`, { cause: error });
      throw error;
    }
    for (let chunk = chunker.take(true); chunk !== null; chunk = chunker.take(true)) {
      if (!(await flush(chunk))) return "continued";
    }
    return "completed";
  } finally {
    await container.cancel();
  }
}

async function writeChunk(
  ctx: IngestContext,
  store: HealthStoreClient,
  upload: UploadRow,
  chunk: Chunk,
  requestId: string | null,
): Promise<void> {
  let flagged = 0;
  for (const item of [...chunk.observations, ...chunk.sleepSessions, ...chunk.workouts]) if (item.flagged) flagged++;
  try {
    await store.ingestUploadChunk(
      // Packed columns: copying 10k observation objects across the RPC boundary costs ~5-7 µs each.
      { observations: packObservations(chunk.observations), sleepSessions: chunk.sleepSessions, workouts: chunk.workouts },
      { uploadId: upload.id, index: chunk.index, flagged, rejected: chunk.rejected },
      {
        actor: "system:upload.ingest",
        role: "system",
        reason: `upload ${upload.id}`,
        requestId,
        ip: null,
        subject: upload.userId,
      },
    );
  } catch (error) {
    if (error instanceof DomainError && error.code === "CONFLICT" && error.extensions.reason === OVERTAKEN) throw new Overtaken();
    throw error;
  }
  await writeLake(ctx, upload, chunk);
}

/** Ends the run in the store: the upload's counts so far, and its one narrative refresh queued if due. */
async function endRun(ctx: IngestContext, store: HealthStoreClient, upload: UploadRow) {
  const { progress, narrativesRefresh } = await store.endUploadRun(upload.id);
  await queueNarrativeRefresh(ctx.env.SYNC, upload.userId, { narrativesRefresh });
  return progress;
}

/** After a failure: the refresh for what was stored is still asked for, if the store answers. */
async function endRunQuietly(ctx: IngestContext, store: HealthStoreClient, upload: UploadRow): Promise<void> {
  try {
    await endRun(ctx, store, upload);
  } catch (error) {
    log("warn", "upload run not ended in the store", { uploadId: upload.id, error: errorName(error) });
  }
}

async function writeLake(ctx: IngestContext, upload: UploadRow, chunk: Chunk): Promise<void> {
  await writeLakeChunk(ctx.env.LAKE, { userId: upload.userId, uploadId: upload.id, chunk: chunk.index }, chunk);
}
