import type { StoreMigration } from "./migrations";

/**
 * Version 7: each upload's ingest progress (./upload-progress.ts), kept beside the data it counts
 * so a chunk's rows and its progress commit in one transaction and D1's single writer sees an
 * upload only when it starts and ends. Frozen like every shipped migration (see migrations.ts).
 */
export const STORE_MIGRATION_V7: StoreMigration = {
  version: 7,
  name: "upload-progress",
  statements: [
    `CREATE TABLE upload_progress (
      upload_id TEXT PRIMARY KEY,
      chunks_done INTEGER NOT NULL CHECK (chunks_done >= 0),
      accepted INTEGER NOT NULL CHECK (accepted >= 0),
      duplicate INTEGER NOT NULL CHECK (duplicate >= 0),
      flagged INTEGER NOT NULL CHECK (flagged >= 0),
      rejected INTEGER NOT NULL CHECK (rejected >= 0),
      refresh_wanted INTEGER NOT NULL DEFAULT 0 CHECK (refresh_wanted IN (0, 1)),
      updated_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`,
  ],
};
