import type { StoreMigration } from "./migrations";

/**
 * Version 5: stored clinical narratives (src/narratives/), one per (period, first local date, time
 * zone). A narrative is computed once and served from here until new data makes it `stale`; the
 * offsets it was computed with (`zone`, JSON) are kept so the store can regenerate it without a tz
 * database. Frozen like every shipped migration (see migrations.ts).
 */
export const STORE_MIGRATION_V5: StoreMigration = {
  version: 5,
  name: "narratives",
  statements: [
    `CREATE TABLE narratives (
      id TEXT PRIMARY KEY,
      period TEXT NOT NULL CHECK (period IN ('day', 'week')),
      date TEXT NOT NULL,
      time_zone TEXT NOT NULL,
      zone TEXT NOT NULL,
      start_ms INTEGER NOT NULL,
      end_ms INTEGER NOT NULL,
      body TEXT NOT NULL,
      generated_at INTEGER NOT NULL,
      stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),
      CHECK (end_ms > start_ms)
    ) STRICT`,
    "CREATE UNIQUE INDEX narratives_key ON narratives (period, date, time_zone)",
    // Ingestion marks the narratives whose inputs a batch touched: a range scan on start.
    "CREATE INDEX narratives_start ON narratives (start_ms)",
  ],
};
