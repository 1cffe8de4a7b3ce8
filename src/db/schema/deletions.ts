import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Account deletions in progress and done (DESIGN §8). Keyed by the pseudonym of the user id
 * (HMAC-SHA-256 with AUDIT_PSEUDONYM_KEY), never the id itself, so the row that lets the job resume
 * (and proves the deletion happened) holds nothing of the person once the job has finished.
 */
export const accountDeletions = sqliteTable("account_deletions", {
  pseudonym: text("pseudonym").primaryKey(),
  /** The last step completed by the resumable job (src/deletion/). */
  step: text("step").notNull(),
  requestedAt: integer("requested_at", { mode: "timestamp_ms" }).notNull(),
  completedAt: integer("completed_at", { mode: "timestamp_ms" }),
});

export type AccountDeletionRow = typeof accountDeletions.$inferSelect;
