import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { RecordType } from "../../health-connect/record-types";
import { sqlList } from "./audit-vocabulary";
import { timestamps } from "./columns";
import { users } from "./users";

/**
 * Health Connect uploads (DESIGN §6): metadata only. The file itself is in R2 (`r2_key`), the
 * health data it holds goes to the user's HealthStore; no health value is ever stored here, and
 * `error_message` describes positions and sizes, never decoded values.
 */
export const UPLOAD_STATUSES = ["queued", "processing", "completed", "failed"] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export const uploads = sqliteTable(
  "uploads",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The device credential that sent the file; null for a user's own session. */
    deviceId: text("device_id"),
    /** Lowercase hex SHA-256 of the file: with `user_id`, what makes a re-sent file the same upload. */
    sha256: text("sha256").notNull(),
    /** Health Connect record type, e.g. `HeartRateRecord`. */
    recordType: text("record_type").$type<RecordType>().notNull(),
    fileName: text("file_name"),
    byteSize: integer("byte_size").notNull(),
    r2Key: text("r2_key").notNull(),
    status: text("status", { enum: UPLOAD_STATUSES }).notNull(),
    /** Records in the file: the sum of its block counts, every block's framing checked on arrival. */
    recordCount: integer("record_count").notNull(),
    // The counts below are final once the upload completes; while it is processing, the live counts
    // are in the user's HealthStore (src/uploads/live-progress.ts), which the job writes per chunk so
    // that an upload costs D1 a constant number of writes whatever its size (docs/scale.md).
    accepted: integer("accepted").notNull().default(0),
    duplicate: integer("duplicate").notNull().default(0),
    flagged: integer("flagged").notNull().default(0),
    rejected: integer("rejected").notNull().default(0),
    /** Chunks written, as of completion; a running job's own count is in the HealthStore. */
    chunksDone: integer("chunks_done").notNull().default(0),
    /**
     * Times the stalled-upload sweeper (or a re-sent file) resumed this upload since it last made
     * progress (the HealthStore says whether it did); past a bound the upload fails instead of looping.
     */
    resumeAttempts: integer("resume_attempts").notNull().default(0),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    ...timestamps(),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
    /**
     * When the retention job deleted the original file from R2 (src/retention/raw-uploads.ts);
     * null while it is kept. The observations ingested from it stay in the HealthStore.
     */
    rawPurgedAt: integer("raw_purged_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    uniqueIndex("uploads_user_sha256_unique").on(table.userId, table.sha256),
    index("uploads_user_created_idx").on(table.userId, table.createdAt, table.id),
    // The sweeper's keyset: unfinished uploads by last progress (src/uploads/resume-stalled.ts).
    index("uploads_status_updated_idx").on(table.status, table.updatedAt, table.id),
    // The raw-upload retention job's keyset: files still kept, oldest first.
    index("uploads_raw_retention_idx").on(table.rawPurgedAt, table.createdAt, table.id),
    check("uploads_status_check", sql.raw(`status IN (${sqlList(UPLOAD_STATUSES)})`)),
  ],
);

export type UploadRow = typeof uploads.$inferSelect;
