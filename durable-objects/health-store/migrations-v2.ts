import type { StoreMigration } from "./migrations";

/**
 * Version 2: sessions, lean observation rows and quarter-hour rollups. Frozen like every shipped
 * migration (see migrations.ts).
 *
 * - Observations move their per-record fields (source kind, app, record id, version, device) to
 *   `observation_records`, one row per source record. A heart-rate record of 100 samples then
 *   writes those strings once instead of 100 times: rows shrink to about a third and ingestion
 *   (which is bound by bytes written) speeds up accordingly. Version checks are per record too.
 * - `observation_rollups` holds count/sum/min/max of the unflagged samples per metric and UTC
 *   quarter hour (`slot = start_ms / 900000`). Every UTC offset in use is a multiple of 15 minutes,
 *   so hour and day buckets in any of them are unions of slots: a 30-day hourly query reads 2,880
 *   rollup rows instead of ~43,000 samples.
 * - Sleep sessions with their stages, and workouts, keyed by their source record like observations.
 */
export const STORE_MIGRATION_V2: StoreMigration = {
  version: 2,
  name: "records-rollups-sessions",
  statements: [
    "ALTER TABLE observations RENAME TO observations_v1",
    `CREATE TABLE observation_records (
      id INTEGER PRIMARY KEY,
      source_kind TEXT NOT NULL CHECK (source_kind IN ('upload', 'provider')),
      source_app TEXT NOT NULL,
      source_record_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      device TEXT,
      ingested_at INTEGER NOT NULL
    ) STRICT`,
    `CREATE UNIQUE INDEX observation_records_source_key
      ON observation_records (source_kind, source_app, source_record_id)`,
    // record_id has no REFERENCES: the foreign-key check cost 15-30% of an insert (measured), and a
    // record is never deleted while samples point to it (only deleteAll() removes records).
    `CREATE TABLE observations (
      id INTEGER PRIMARY KEY,
      record_id INTEGER NOT NULL,
      metric TEXT NOT NULL,
      start_ms INTEGER NOT NULL,
      end_ms INTEGER NOT NULL,
      value REAL NOT NULL,
      unit TEXT NOT NULL,
      zone_offset_seconds INTEGER,
      local_date TEXT NOT NULL,
      flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
      CHECK (end_ms >= start_ms)
    ) STRICT`,
    // Version 1 kept only the highest version of each record, so MAX(version) is that version.
    `INSERT INTO observation_records (source_kind, source_app, source_record_id, version, device, ingested_at)
      SELECT source_kind, source_app, source_record_id, MAX(version), MAX(device), MAX(ingested_at)
      FROM observations_v1 GROUP BY source_kind, source_app, source_record_id`,
    `INSERT INTO observations (id, record_id, metric, start_ms, end_ms, value, unit, zone_offset_seconds, local_date, flagged)
      SELECT o.id, r.id, o.metric, o.start_ms, o.end_ms, o.value, o.unit, o.zone_offset_seconds, o.local_date, o.flagged
      FROM observations_v1 o JOIN observation_records r
        ON r.source_kind = o.source_kind AND r.source_app = o.source_app AND r.source_record_id = o.source_record_id`,
    "DROP TABLE observations_v1",
    // The idempotency key: one row per sample of a source record.
    "CREATE UNIQUE INDEX observations_sample_key ON observations (record_id, metric, start_ms)",
    "CREATE INDEX observations_metric_start ON observations (metric, start_ms)",
    `CREATE TABLE observation_rollups (
      metric TEXT NOT NULL,
      slot INTEGER NOT NULL,
      sample_count INTEGER NOT NULL,
      value_sum REAL NOT NULL,
      value_min REAL NOT NULL,
      value_max REAL NOT NULL,
      PRIMARY KEY (metric, slot)
    ) STRICT, WITHOUT ROWID`,
    `INSERT INTO observation_rollups (metric, slot, sample_count, value_sum, value_min, value_max)
      SELECT metric, start_ms / 900000, COUNT(*), SUM(value), MIN(value), MAX(value)
      FROM observations WHERE flagged = 0 GROUP BY metric, start_ms / 900000`,
    `CREATE TABLE sleep_sessions (
      id INTEGER PRIMARY KEY,
      source_kind TEXT NOT NULL CHECK (source_kind IN ('upload', 'provider')),
      source_app TEXT NOT NULL,
      source_record_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      start_ms INTEGER NOT NULL,
      end_ms INTEGER NOT NULL,
      zone_offset_seconds INTEGER,
      local_date TEXT NOT NULL,
      title TEXT,
      notes TEXT,
      device TEXT,
      flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
      ingested_at INTEGER NOT NULL,
      CHECK (end_ms >= start_ms)
    ) STRICT`,
    "CREATE UNIQUE INDEX sleep_sessions_source_key ON sleep_sessions (source_kind, source_app, source_record_id)",
    "CREATE INDEX sleep_sessions_start ON sleep_sessions (start_ms)",
    "CREATE INDEX sleep_sessions_end ON sleep_sessions (end_ms)",
    `CREATE TABLE sleep_stages (
      id INTEGER PRIMARY KEY,
      session_id INTEGER NOT NULL REFERENCES sleep_sessions (id),
      stage TEXT NOT NULL
        CHECK (stage IN ('awake', 'sleeping', 'out_of_bed', 'light', 'deep', 'rem', 'awake_in_bed', 'unknown')),
      start_ms INTEGER NOT NULL,
      end_ms INTEGER NOT NULL,
      CHECK (end_ms >= start_ms)
    ) STRICT`,
    "CREATE INDEX sleep_stages_session ON sleep_stages (session_id, start_ms)",
    `CREATE TABLE workouts (
      id INTEGER PRIMARY KEY,
      source_kind TEXT NOT NULL CHECK (source_kind IN ('upload', 'provider')),
      source_app TEXT NOT NULL,
      source_record_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      exercise_type TEXT NOT NULL,
      start_ms INTEGER NOT NULL,
      end_ms INTEGER NOT NULL,
      zone_offset_seconds INTEGER,
      local_date TEXT NOT NULL,
      title TEXT,
      notes TEXT,
      device TEXT,
      flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
      ingested_at INTEGER NOT NULL,
      CHECK (end_ms >= start_ms)
    ) STRICT`,
    "CREATE UNIQUE INDEX workouts_source_key ON workouts (source_kind, source_app, source_record_id)",
    "CREATE INDEX workouts_start ON workouts (start_ms)",
  ],
};
