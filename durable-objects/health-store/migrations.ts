/**
 * The HealthStore's own schema migrations: an ordered, append-only list of SQL statements,
 * applied once each (tracked in `_migrations`) when a store is first used after a deploy. Each
 * migration is frozen text: never edit one that has shipped, add the next version instead.
 */
import { STORE_MIGRATION_V2 } from "./migrations-v2";
import { STORE_MIGRATION_V3 } from "./migrations-v3";
import { STORE_MIGRATION_V4 } from "./migrations-v4";
import { STORE_MIGRATION_V5 } from "./migrations-v5";
import { STORE_MIGRATION_V6 } from "./migrations-v6";
import { STORE_MIGRATION_V7 } from "./migrations-v7";

export interface StoreMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

export const STORE_MIGRATIONS: readonly StoreMigration[] = [
  {
    version: 1,
    name: "observations-and-audit",
    statements: [
      `CREATE TABLE observations (
        id INTEGER PRIMARY KEY,
        metric TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        value REAL NOT NULL,
        unit TEXT NOT NULL,
        source_kind TEXT NOT NULL CHECK (source_kind IN ('upload', 'provider')),
        source_app TEXT NOT NULL,
        device TEXT,
        source_record_id TEXT NOT NULL,
        zone_offset_seconds INTEGER,
        local_date TEXT NOT NULL,
        flagged INTEGER NOT NULL DEFAULT 0 CHECK (flagged IN (0, 1)),
        version INTEGER NOT NULL DEFAULT 0,
        ingested_at INTEGER NOT NULL,
        CHECK (end_ms >= start_ms)
      ) STRICT`,
      // The idempotency key: one row per sample of a source record (a series record such as heart
      // rate yields many samples; a blood-pressure record yields two metrics at the same instant).
      `CREATE UNIQUE INDEX observations_source_key
        ON observations (source_kind, source_app, source_record_id, metric, start_ms)`,
      "CREATE INDEX observations_metric_start ON observations (metric, start_ms, id)",
      "CREATE INDEX observations_start ON observations (start_ms, id)",
      `CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL
          CHECK (role IN ('patient', 'clinician', 'researcher', 'admin', 'auditor', 'system', 'anonymous')),
        action TEXT NOT NULL,
        resource TEXT NOT NULL,
        subject TEXT,
        reason TEXT,
        result TEXT NOT NULL CHECK (result IN ('success', 'failure', 'denied')),
        request_id TEXT,
        ip TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      ) STRICT`,
      "CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT",
    ],
  },
  STORE_MIGRATION_V2,
  STORE_MIGRATION_V3,
  STORE_MIGRATION_V4,
  STORE_MIGRATION_V5,
  STORE_MIGRATION_V6,
  STORE_MIGRATION_V7,
];

/** Applies pending migrations, each in its own transaction. Safe to call on every start. */
export function migrateStore(storage: DurableObjectStorage): void {
  storage.sql.exec(
    "CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
  );
  const applied = new Set(
    storage.sql
      .exec<{ version: number }>("SELECT version FROM _migrations")
      .toArray()
      .map((row) => row.version),
  );
  for (const migration of STORE_MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    storage.transactionSync(() => {
      for (const statement of migration.statements) storage.sql.exec(statement);
      storage.sql.exec(
        "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
        migration.version,
        migration.name,
        Date.now(),
      );
    });
  }
}
