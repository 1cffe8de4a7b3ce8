import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sqlList } from "./audit-vocabulary";
import { users } from "./users";

/**
 * Data exports (DESIGN §8): one row per requested archive. The archive itself is in R2 under
 * `r2_key` (`exports/{userId}/{exportId}.zip`) once `completed`; both go after `expires_at`.
 */
export const EXPORT_STATUSES = ["queued", "running", "completed", "failed"] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const exports = sqliteTable(
  "exports",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    status: text("status", { enum: EXPORT_STATUSES }).notNull(),
    r2Key: text("r2_key"),
    byteSize: integer("byte_size"),
    errorMessage: text("error_message"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (table) => [
    index("exports_user_idx").on(table.userId, table.createdAt),
    index("exports_expiry_idx").on(table.expiresAt),
    check("exports_status_check", sql.raw(`status IN (${sqlList(EXPORT_STATUSES)})`)),
  ],
);

export type ExportRow = typeof exports.$inferSelect;
