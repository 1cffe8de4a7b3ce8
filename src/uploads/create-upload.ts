/**
 * `POST /v1/uploads` as a domain operation (DESIGN §6): receive the file into R2, record it in D1
 * once per (user, SHA-256), audit it in the user's HealthStore, queue its ingestion.
 *
 * Idempotency: the row is inserted with `ON CONFLICT (user_id, sha256) DO NOTHING`, so of two
 * identical uploads racing, exactly one inserts; the other deletes the R2 object it wrote and
 * answers with the winner's id. A re-sent file gets its first upload back (200); if that upload
 * failed or stalled, the re-sent file also restarts or resumes it (./resend-upload.ts).
 *
 * Audit: storing the raw file is a write of health data, so it is recorded as `upload.create` in
 * the user's HealthStore chain (DESIGN §8), where the user sees it in their access log; the
 * records it holds are audited again as `observations.write` when the ingest job stores them.
 */
import { eq } from "drizzle-orm";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { type UploadRow, uploads, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import type { RecordType } from "../health-connect/record-types";
import { errorName, log } from "../observability/log";
import { enqueueIngest } from "./enqueue";
import { receiveFile } from "./receive-file";
import { resendUpload } from "./resend-upload";
import { findBySha256, insertUpload, type UploadReceipt, uploadReceipt } from "./uploads";

export interface UploadContext {
  db: Db;
  env: Env;
}

export interface NewUpload {
  userId: string;
  deviceId: string | null;
  fileName: string | null;
  body: ReadableStream<Uint8Array>;
  length: number | null;
  audit: AuditContext;
}

export interface IngestMessage {
  type: "upload.ingest";
  uploadId: string;
  userId: string;
  requestId: string | null;
  /** Set when the message resumes a stalled upload: the how-many-th resume (./resume.ts). */
  resume?: number;
}

/** `raw/{userId}/{RecordType}/{yyyy}/{mm}/{dd}/{uploadId}.avro`, dated by the upload day (UTC). */
export function rawKey(userId: string, recordType: RecordType, at: Date, uploadId: string): string {
  const [yyyy, mm, dd] = at.toISOString().slice(0, 10).split("-");
  return `raw/${userId}/${recordType}/${yyyy}/${mm}/${dd}/${uploadId}.avro`;
}

export async function createUpload(
  ctx: UploadContext,
  input: NewUpload,
  now = new Date(),
): Promise<{ receipt: UploadReceipt; created: boolean }> {
  const id = newId("upl");
  const file = await receiveFile(ctx.env.LAKE, {
    body: input.body,
    length: input.length,
    keyFor: (recordType) => rawKey(input.userId, recordType, now, id),
    customMetadata: { userId: input.userId, uploadId: id },
  });

  let row: UploadRow | null;
  try {
    row = await insertUpload(ctx.db, {
      id,
      userId: input.userId,
      deviceId: input.deviceId,
      sha256: file.sha256,
      recordType: file.recordType,
      fileName: input.fileName,
      byteSize: file.byteSize,
      r2Key: file.r2Key,
      status: "queued",
      recordCount: file.recordCount,
      createdAt: now,
      updatedAt: now,
    });
  } catch (error) {
    await ctx.env.LAKE.delete(file.r2Key);
    if (await accountGone(ctx.db, input.userId)) throw accountDeleted();
    throw error;
  }

  // The account's deletion may have been confirmed while the file was arriving (the credential was
  // checked when the request began). Checked after the insert: either the deletion job lists this
  // row, or this check sees `deleted_at` (set before the job starts) and removes what was written.
  let gone: boolean;
  try {
    gone = await accountGone(ctx.db, input.userId);
  } catch (error) {
    // D1 failed between the insert and this read: nothing of this request may stay behind.
    if (row !== null) await discardReceived(ctx, id, file.r2Key);
    else await ctx.env.LAKE.delete(file.r2Key);
    throw error;
  }
  if (gone) {
    if (row !== null) await discardReceived(ctx, id, file.r2Key);
    else await ctx.env.LAKE.delete(file.r2Key);
    throw accountDeleted();
  }

  if (row === null) {
    let existing: UploadRow | undefined;
    try {
      existing = await findBySha256(ctx.db, input.userId, file.sha256);
    } catch (error) {
      // No row names this copy, and none will: it goes with the request.
      await ctx.env.LAKE.delete(file.r2Key);
      throw error;
    }
    if (!existing) {
      await ctx.env.LAKE.delete(file.r2Key);
      throw new DomainError("CONFLICT", "The same file was being uploaded and removed at once; send it again.");
    }
    const resent = await resendUpload(ctx, existing, file.r2Key, input.audit.requestId, now);
    return { receipt: uploadReceipt(resent), created: false };
  }

  try {
    await healthStoreFor(ctx.env.HEALTH_STORE, input.userId).appendAuditEvent(
      { action: "upload.create", resource: `upload:${id}`, result: "success" },
      { ...input.audit, subject: input.userId },
    );
  } catch (error) {
    // An unaudited write of health data must not remain.
    await discardReceived(ctx, id, file.r2Key);
    throw error;
  }

  await enqueueIngest(ctx, row, input.audit.requestId);
  log("info", "upload accepted", {
    requestId: input.audit.requestId,
    userId: input.userId,
    uploadId: id,
    recordType: file.recordType,
    recordCount: file.recordCount,
    byteSize: file.byteSize,
  });
  return { receipt: uploadReceipt(row), created: true };
}

async function accountGone(db: Db, userId: string): Promise<boolean> {
  const [user] = await db.select({ deletedAt: users.deletedAt }).from(users).where(eq(users.id, userId)).limit(1);
  return user === undefined || user.deletedAt !== null;
}

/**
 * Removes a just-inserted upload: the raw object first, then the row. If D1 is what failed, the row
 * may outlive this request as `queued` — with its file already gone, so the stalled-upload sweeper
 * resumes it into `FILE_MISSING` (failed, "send the file again") and no data is ever ingested from
 * a request that was answered with an error.
 */
async function discardReceived(ctx: UploadContext, id: string, r2Key: string): Promise<void> {
  await ctx.env.LAKE.delete(r2Key);
  try {
    await ctx.db.delete(uploads).where(eq(uploads.id, id));
  } catch (error) {
    log("warn", "upload row left for the sweeper", { uploadId: id, error: errorName(error) });
  }
}

function accountDeleted(): DomainError {
  return new DomainError("UNAUTHENTICATED", "The session has ended; sign in again.");
}
