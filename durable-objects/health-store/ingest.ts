import type { IngestResult, ObservationRecord } from "./schema";
import { chunksFor, placeholders } from "./sql-chunks";

/**
 * Idempotent ingestion (DESIGN §5). A sample is identified by its source record and its place in
 * it (source kind, app, record id, metric, start). Per source record, only the highest version
 * survives: a newer version removes every stored sample of the older ones (a re-exported series
 * may have fewer samples), an equal version adds only samples not yet stored, an older one is
 * ignored. Runs inside the caller's transaction.
 */
const RECORD_KEY_COLUMNS = "(source_kind, source_app, source_record_id)";
const INSERT_COLUMNS = [
  "metric",
  "start_ms",
  "end_ms",
  "value",
  "unit",
  "source_kind",
  "source_app",
  "device",
  "source_record_id",
  "zone_offset_seconds",
  "local_date",
  "flagged",
  "version",
  "ingested_at",
] as const;

interface SourceRecord {
  kind: string;
  app: string;
  id: string;
  version: number;
  stored: number | null;
}

export function ingestObservations(sql: SqlStorage, batch: readonly ObservationRecord[], now: number): IngestResult {
  const records = latestVersions(batch);
  readStoredVersions(sql, [...records.values()]);

  const fresh: ObservationRecord[] = [];
  const replacing: ObservationRecord[] = [];
  for (const obs of batch) {
    const record = records.get(recordKey(obs));
    if (record === undefined || obs.version < record.version) continue;
    if (record.stored === null || record.stored === record.version) fresh.push(obs);
    else if (record.stored < record.version) replacing.push(obs);
  }

  deleteRecords(
    sql,
    [...records.values()].filter((record) => record.stored !== null && record.stored < record.version),
  );
  const accepted = insertNew(sql, fresh, now);
  const replaced = insertNew(sql, replacing, now);
  return { accepted, replaced, duplicate: batch.length - accepted - replaced };
}

function recordKey(obs: { sourceKind: string; sourceApp: string; sourceRecordId: string }): string {
  return JSON.stringify([obs.sourceKind, obs.sourceApp, obs.sourceRecordId]);
}

function latestVersions(batch: readonly ObservationRecord[]): Map<string, SourceRecord> {
  const records = new Map<string, SourceRecord>();
  for (const obs of batch) {
    const key = recordKey(obs);
    const known = records.get(key);
    if (known === undefined) {
      records.set(key, { kind: obs.sourceKind, app: obs.sourceApp, id: obs.sourceRecordId, version: obs.version, stored: null });
    } else if (obs.version > known.version) {
      known.version = obs.version;
    }
  }
  return records;
}

/** Fills `stored` with each record's highest stored version. */
function readStoredVersions(sql: SqlStorage, records: readonly SourceRecord[]): void {
  const byKey = new Map(records.map((record) => [JSON.stringify([record.kind, record.app, record.id]), record]));
  for (const chunk of chunksFor(records, 3)) {
    const rows = sql.exec<{ source_kind: string; source_app: string; source_record_id: string; version: number }>(
      `SELECT source_kind, source_app, source_record_id, MAX(version) AS version FROM observations
       WHERE ${RECORD_KEY_COLUMNS} IN (VALUES ${placeholders(chunk.length, 3)})
       GROUP BY source_kind, source_app, source_record_id`,
      ...chunk.flatMap((record) => [record.kind, record.app, record.id]),
    );
    for (const row of rows) {
      const record = byKey.get(JSON.stringify([row.source_kind, row.source_app, row.source_record_id]));
      if (record !== undefined) record.stored = row.version;
    }
  }
}

function deleteRecords(sql: SqlStorage, records: readonly SourceRecord[]): void {
  for (const chunk of chunksFor(records, 3)) {
    sql.exec(
      `DELETE FROM observations WHERE ${RECORD_KEY_COLUMNS} IN (VALUES ${placeholders(chunk.length, 3)})`,
      ...chunk.flatMap((record) => [record.kind, record.app, record.id]),
    );
  }
}

/** Inserts what is not stored yet; returns how many rows were actually inserted. */
function insertNew(sql: SqlStorage, rows: readonly ObservationRecord[], now: number): number {
  let inserted = 0;
  for (const chunk of chunksFor(rows, INSERT_COLUMNS.length)) {
    const cursor = sql.exec(
      `INSERT INTO observations (${INSERT_COLUMNS.join(", ")}) VALUES ${placeholders(chunk.length, INSERT_COLUMNS.length)}
       ON CONFLICT DO NOTHING RETURNING id`,
      ...chunk.flatMap((obs) => [
        obs.metric,
        obs.start,
        obs.end,
        obs.value,
        obs.unit,
        obs.sourceKind,
        obs.sourceApp,
        obs.device,
        obs.sourceRecordId,
        obs.zoneOffsetSeconds,
        obs.localDate,
        obs.flagged ? 1 : 0,
        obs.version,
        now,
      ]),
    );
    inserted += cursor.toArray().length;
  }
  return inserted;
}
