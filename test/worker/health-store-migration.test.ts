import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { migrateStore, STORE_MIGRATIONS } from "../../durable-objects/health-store/migrations";
import { newId } from "../../src/db/ids";

/**
 * Migration 2 on a store that already holds version-1 observations: every sample keeps its id and
 * values, per-record fields move to `observation_records`, rollups are built, and reads work.
 */
const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);

describe("HealthStore migration 2", () => {
  it("moves version-1 observations to records and samples and builds their rollups", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    const v1 = STORE_MIGRATIONS.find((migration) => migration.version === 1);
    if (v1 === undefined) throw new Error("no migration 1");

    await runInDurableObject(store.stub, (_instance: HealthStore, state) => {
      const sql = state.storage.sql;
      // Back to a store that only ever ran migration 1.
      for (const { name } of sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
        .toArray()) {
        sql.exec(`DROP TABLE ${name}`);
      }
      sql.exec("CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT");
      for (const statement of v1.statements) sql.exec(statement);
      sql.exec("INSERT INTO _migrations (version, name, applied_at) VALUES (1, ?, 0)", v1.name);
      const insert = `INSERT INTO observations (id, metric, start_ms, end_ms, value, unit, source_kind, source_app, device,
        source_record_id, zone_offset_seconds, local_date, flagged, version, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
      sql.exec(insert, 11, "heart_rate", T0, T0, 60, "bpm", "upload", "app", "Watch", "r1", 3600, "2026-01-15", 0, 3, 1);
      sql.exec(
        insert,
        12,
        "heart_rate",
        T0 + 60_000,
        T0 + 60_000,
        70,
        "bpm",
        "upload",
        "app",
        "Watch",
        "r1",
        3600,
        "2026-01-15",
        0,
        3,
        1,
      );
      sql.exec(
        insert,
        13,
        "heart_rate",
        T0 + 120_000,
        T0 + 120_000,
        240,
        "bpm",
        "upload",
        "app",
        "Watch",
        "r1",
        3600,
        "2026-01-15",
        1,
        3,
        1,
      );
      sql.exec(
        insert,
        14,
        "steps",
        T0,
        T0 + 600_000,
        800,
        "count",
        "provider",
        "fitbit",
        null,
        "s1",
        null,
        "2026-01-15",
        0,
        0,
        2,
      );

      migrateStore(state.storage);

      expect(sql.exec("SELECT version FROM _migrations ORDER BY version").toArray()).toEqual(
        STORE_MIGRATIONS.map(({ version }) => ({ version })),
      );
      expect(
        sql
          .exec("SELECT source_kind, source_app, source_record_id, version, device FROM observation_records ORDER BY id")
          .toArray(),
      ).toEqual([
        { source_kind: "provider", source_app: "fitbit", source_record_id: "s1", version: 0, device: null },
        { source_kind: "upload", source_app: "app", source_record_id: "r1", version: 3, device: "Watch" },
      ]);
      expect(
        sql
          .exec("SELECT metric, slot, sample_count, value_sum, value_min, value_max FROM observation_rollups ORDER BY metric")
          .toArray(),
      ).toEqual([
        { metric: "heart_rate", slot: T0 / 900_000, sample_count: 2, value_sum: 130, value_min: 60, value_max: 70 },
        { metric: "steps", slot: T0 / 900_000, sample_count: 1, value_sum: 800, value_min: 800, value_max: 800 },
      ]);
    });

    const audit = { actor: userId, role: "patient" as const, subject: userId, reason: null, requestId: null, ip: null };
    const page = await store.queryObservations({}, audit);
    expect(
      page.items.map((item) =>
        "id" in item ? [item.id, item.metric, item.value, item.sourceRecordId, item.version, item.flagged] : [],
      ),
    ).toEqual([
      [11, "heart_rate", 60, "r1", 3, false],
      [14, "steps", 800, "s1", 0, false],
      [12, "heart_rate", 70, "r1", 3, false],
      [13, "heart_rate", 240, "r1", 3, true],
    ]);
    // The migrated record keeps its version rules: the same version again is a duplicate.
    const again = await store.ingest(
      [
        {
          metric: "heart_rate",
          start: T0,
          end: T0,
          value: 60,
          unit: "bpm",
          sourceKind: "upload",
          sourceApp: "app",
          sourceRecordId: "r1",
          localDate: "2026-01-15",
          version: 3,
        },
      ],
      audit,
    );
    expect(again).toEqual({ accepted: 0, duplicate: 1, replaced: 0 });
  });
});

describe("HealthStore migration 6", () => {
  it("records the longest span of every metric and session kind already stored", async () => {
    const userId = newId("usr");
    const store = healthStoreFor(env.HEALTH_STORE, userId);
    const v6 = STORE_MIGRATIONS.find((migration) => migration.version === 6);
    if (v6 === undefined) throw new Error("no migration 6");
    const context = { actor: userId, role: "patient" as const, reason: null, requestId: null, ip: null, subject: userId };
    const sample = (metric: string, unit: string, start: number, end: number, id: string) => ({
      metric,
      start,
      end,
      value: 1,
      unit,
      sourceKind: "upload" as const,
      sourceApp: "app",
      sourceRecordId: id,
      localDate: "2026-01-15",
    });
    await store.ingestBatch(
      {
        observations: [
          sample("steps", "count", T0, T0 + 3_600_000, "s1"),
          sample("steps", "count", T0, T0 + 900_000, "s2"),
          sample("heart_rate", "bpm", T0, T0, "h1"),
        ],
        sleepSessions: [],
        workouts: [],
      },
      context,
    );
    const spans = await runInDurableObject(store.stub, (_instance: HealthStore, state) => {
      const sql = state.storage.sql;
      // Back to a store from before migration 6, holding data.
      sql.exec("DROP TABLE longest_spans");
      sql.exec("DELETE FROM _migrations WHERE version = 6");
      migrateStore(state.storage);
      return sql.exec<{ kind: string; span_ms: number }>("SELECT kind, span_ms FROM longest_spans ORDER BY kind").toArray();
    });
    // No sleep or workout stored: no row for them, so reads of those kinds keep no bound at all.
    expect(spans).toEqual([
      { kind: "heart_rate", span_ms: 0 },
      { kind: "steps", span_ms: 3_600_000 },
    ]);
  });
});
