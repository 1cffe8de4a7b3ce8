/**
 * Upload rows in D1 (DESIGN §5, §6): what the status routes read and the ingest job updates.
 * Every read filters by the owning user, so another user's upload id is simply not found. While an
 * upload is unfinished its counts come from the user's HealthStore (./live-progress.ts).
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type UploadRow, type UploadStatus, uploads } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import type { RecordType } from "../health-connect/record-types";
import { afterCursor, decodeKeyset, newestFirst, pageOf } from "../pagination/keyset";
import { withLiveProgress } from "./live-progress";

/** The 202 body of `POST /v1/uploads` (DESIGN §6). */
export interface UploadReceipt {
  uploadId: string;
  status: UploadStatus;
  recordType: RecordType;
  recordCount: number;
  sha256: string;
  statusUrl: string;
}

export interface UploadView {
  id: string;
  status: UploadStatus;
  recordType: RecordType;
  fileName: string | null;
  byteSize: number;
  sha256: string;
  recordCount: number;
  counts: { accepted: number; duplicate: number; flagged: number; rejected: number };
  error: { code: string; message: string } | null;
  statusUrl: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** Whether R2 still keeps the uploaded file (the retention job deletes it, src/retention/raw-uploads.ts). */
  originalFile: { kept: boolean; deletedAt: string | null };
}

export function statusUrl(id: string): string {
  return `/v1/uploads/${id}`;
}

export function uploadReceipt(row: UploadRow): UploadReceipt {
  return {
    uploadId: row.id,
    status: row.status,
    recordType: row.recordType,
    recordCount: row.recordCount,
    sha256: row.sha256,
    statusUrl: statusUrl(row.id),
  };
}

export function uploadView(row: UploadRow): UploadView {
  return {
    id: row.id,
    status: row.status,
    recordType: row.recordType,
    fileName: row.fileName,
    byteSize: row.byteSize,
    sha256: row.sha256,
    recordCount: row.recordCount,
    counts: { accepted: row.accepted, duplicate: row.duplicate, flagged: row.flagged, rejected: row.rejected },
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? "" },
    statusUrl: statusUrl(row.id),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    originalFile: { kept: row.rawPurgedAt === null, deletedAt: row.rawPurgedAt?.toISOString() ?? null },
  };
}

export async function findUpload(db: Db, userId: string, id: string): Promise<UploadRow | undefined> {
  const [row] = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.id, id), eq(uploads.userId, userId)))
    .limit(1);
  return row;
}

/**
 * One of the user's uploads. A device credential (`onlyDevice`) sees only the uploads it made itself:
 * it needs their status, not the rest of the account's history.
 */
export async function getUpload(ctx: { db: Db; env: Env }, userId: string, id: string, onlyDevice?: string): Promise<UploadView> {
  const row = await findUpload(ctx.db, userId, id);
  if (!row || (onlyDevice !== undefined && row.deviceId !== onlyDevice)) throw new DomainError("NOT_FOUND", "No such upload.");
  const [live = row] = await withLiveProgress(ctx.env, userId, [row]);
  return uploadView(live);
}

export async function listUploads(
  ctx: { db: Db; env: Env },
  userId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ items: UploadView[]; nextCursor: string | null }> {
  const binding = { list: "uploads" };
  const after = decodeKeyset(page.cursor, binding);
  const rows = await ctx.db
    .select()
    .from(uploads)
    .where(and(eq(uploads.userId, userId), afterCursor(uploads, after)))
    .orderBy(...newestFirst(uploads))
    .limit(page.limit + 1);
  const { rows: items, nextCursor } = pageOf(rows, page.limit, binding);
  return { items: (await withLiveProgress(ctx.env, userId, items)).map(uploadView), nextCursor };
}

/** Inserts the upload unless this user already sent the same bytes; null when they had. */
export async function insertUpload(db: Db, row: typeof uploads.$inferInsert): Promise<UploadRow | null> {
  const [inserted] = await db
    .insert(uploads)
    .values(row)
    .onConflictDoNothing({ target: [uploads.userId, uploads.sha256] })
    .returning();
  return inserted ?? null;
}

export async function findBySha256(db: Db, userId: string, sha256: string): Promise<UploadRow | undefined> {
  const [row] = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.userId, userId), eq(uploads.sha256, sha256)))
    .limit(1);
  return row;
}

/** Marks an upload failed with a reason; a completed upload stays completed. */
export async function markFailed(db: Db, id: string, error: { code: string; message: string }): Promise<void> {
  await db
    .update(uploads)
    .set({ status: "failed", errorCode: error.code, errorMessage: error.message, updatedAt: new Date() })
    .where(and(eq(uploads.id, id), sql`${uploads.status} <> 'completed'`));
}
