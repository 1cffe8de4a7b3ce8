import type { StoreMigration } from "./migrations";

/**
 * Version 6: the longest duration stored per metric code and per session kind (`sleep`,
 * `workout`). Reads by "ends at or after T" (a FHIR `date=ge…` search) can then bound the start
 * index, `start >= T - longest`, instead of scanning every older row of a metric. The bound only
 * ever grows (deleting data leaves it), which keeps it safe. Frozen like every shipped migration
 * (see migrations.ts).
 */
export const STORE_MIGRATION_V6: StoreMigration = {
  version: 6,
  name: "longest-spans",
  statements: [
    "CREATE TABLE longest_spans (kind TEXT PRIMARY KEY, span_ms INTEGER NOT NULL CHECK (span_ms >= 0)) STRICT, WITHOUT ROWID",
    "INSERT INTO longest_spans (kind, span_ms) SELECT metric, MAX(end_ms - start_ms) FROM observations GROUP BY metric",
    `INSERT INTO longest_spans (kind, span_ms)
      SELECT 'sleep', MAX(end_ms - start_ms) FROM sleep_sessions HAVING COUNT(*) > 0`,
    `INSERT INTO longest_spans (kind, span_ms)
      SELECT 'workout', MAX(end_ms - start_ms) FROM workouts HAVING COUNT(*) > 0`,
  ],
};
