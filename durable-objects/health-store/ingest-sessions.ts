import type { z } from "zod";
import { chunked, type JsonCell, jsonColumns } from "./json-rows";
import type { IngestResult } from "./schema";
import type { sleepSessionInputSchema, workoutInputSchema } from "./session-schema";
import { sourceKey } from "./source-key";
import type { TouchedSpan } from "./touched-span";

/**
 * Idempotent ingestion of sleep sessions and workouts (DESIGN §5). A session is its source record:
 * a higher version replaces it whole (sleep stages included) and keeps its id, the same or an
 * older version is a duplicate. Runs inside the caller's transaction.
 */
export type SleepSessionRecord = z.output<typeof sleepSessionInputSchema>;
export type WorkoutRecord = z.output<typeof workoutInputSchema>;
type SessionRecord = SleepSessionRecord | WorkoutRecord;

interface SessionTable<T extends SessionRecord> {
  /** A constant of this file, never input. */
  name: "sleep_sessions" | "workouts";
  columns: readonly string[];
  values: (session: T) => JsonCell[];
}

const COMMON_COLUMNS = [
  "source_kind",
  "source_app",
  "source_record_id",
  "version",
  "start_ms",
  "end_ms",
  "zone_offset_seconds",
  "local_date",
  "title",
  "notes",
  "device",
  "flagged",
];

function commonValues(session: SessionRecord): JsonCell[] {
  return [
    session.sourceKind,
    session.sourceApp,
    session.sourceRecordId,
    session.version,
    session.start,
    session.end,
    session.zoneOffsetSeconds,
    session.localDate,
    session.title,
    session.notes,
    session.device,
    session.flagged ? 1 : 0,
  ];
}

const SLEEP_TABLE: SessionTable<SleepSessionRecord> = { name: "sleep_sessions", columns: COMMON_COLUMNS, values: commonValues };
const WORKOUT_TABLE: SessionTable<WorkoutRecord> = {
  name: "workouts",
  columns: [...COMMON_COLUMNS, "exercise_type"],
  values: (workout) => [...commonValues(workout), workout.exerciseType],
};

/** `replaced` gathers where the replaced versions lay. */
export function ingestSleepSessions(
  sql: SqlStorage,
  sessions: readonly SleepSessionRecord[],
  now: number,
  replaced?: TouchedSpan,
): IngestResult {
  const { result, written } = upsertSessions(sql, SLEEP_TABLE, sessions, now, replaced);
  const ids = written.map(({ id }) => id);
  for (const chunk of chunked(ids)) {
    sql.exec("DELETE FROM sleep_stages WHERE session_id IN (SELECT value FROM json_each(?))", JSON.stringify(chunk));
  }
  const stages = written.flatMap(({ id, session }) => session.stages.map((stage) => [id, stage.stage, stage.start, stage.end]));
  for (const chunk of chunked(stages)) {
    sql.exec(
      `INSERT INTO sleep_stages (session_id, stage, start_ms, end_ms) SELECT ${jsonColumns(4)} FROM json_each(?)`,
      JSON.stringify(chunk),
    );
  }
  return result;
}

export function ingestWorkouts(
  sql: SqlStorage,
  workouts: readonly WorkoutRecord[],
  now: number,
  replaced?: TouchedSpan,
): IngestResult {
  return upsertSessions(sql, WORKOUT_TABLE, workouts, now, replaced).result;
}

/** Inserts new sessions and overwrites older versions in place; returns what was written, with ids. */
function upsertSessions<T extends SessionRecord>(
  sql: SqlStorage,
  table: SessionTable<T>,
  sessions: readonly T[],
  now: number,
  touched: TouchedSpan | undefined,
): { result: IngestResult; written: { id: number; session: T }[] } {
  const latest = new Map<string, T>();
  for (const session of sessions) {
    const key = sourceKey(session.sourceKind, session.sourceApp, session.sourceRecordId);
    const known = latest.get(key);
    if (known === undefined || session.version > known.version) latest.set(key, session);
  }
  const candidates = [...latest.values()];
  const written: { id: number; session: T }[] = [];
  let replaced = 0;
  for (const chunk of chunked(candidates)) {
    const stored = sql
      .exec<{ i: number; id: number; version: number; start_ms: number; end_ms: number }>(
        `SELECT j.key AS i, t.id, t.version, t.start_ms, t.end_ms FROM json_each(?) j JOIN ${table.name} t
           ON t.source_kind = j.value ->> 0 AND t.source_app = j.value ->> 1 AND t.source_record_id = j.value ->> 2`,
        JSON.stringify(chunk.map((session) => [session.sourceKind, session.sourceApp, session.sourceRecordId])),
      )
      .toArray();
    const storedAt = new Map(stored.map((row) => [row.i, row]));
    const fresh = chunk.filter((_, i) => !storedAt.has(i));
    for (const [i, row] of storedAt) {
      const session = chunk[i];
      if (session === undefined || session.version <= row.version) continue;
      const assignments = table.columns.map((column) => `${column} = ?`).join(", ");
      sql.exec(`UPDATE ${table.name} SET ${assignments}, ingested_at = ? WHERE id = ?`, ...table.values(session), now, row.id);
      touched?.add(row.start_ms, row.end_ms);
      written.push({ id: row.id, session });
      replaced += 1;
    }
    if (fresh.length > 0) written.push(...insertSessions(sql, table, fresh, now));
  }
  const accepted = written.length - replaced;
  return { result: { accepted, replaced, duplicate: sessions.length - accepted - replaced }, written };
}

function insertSessions<T extends SessionRecord>(
  sql: SqlStorage,
  table: SessionTable<T>,
  sessions: readonly T[],
  now: number,
): { id: number; session: T }[] {
  const byKey = new Map(
    sessions.map((session) => [sourceKey(session.sourceKind, session.sourceApp, session.sourceRecordId), session]),
  );
  const rows = sql.exec<{ id: number; source_kind: string; source_app: string; source_record_id: string }>(
    `INSERT INTO ${table.name} (${table.columns.join(", ")}, ingested_at)
     SELECT ${jsonColumns(table.columns.length)}, ? FROM json_each(?)
     RETURNING id, source_kind, source_app, source_record_id`,
    now,
    JSON.stringify(sessions.map(table.values)),
  );
  const written: { id: number; session: T }[] = [];
  for (const row of rows) {
    const session = byKey.get(sourceKey(row.source_kind, row.source_app, row.source_record_id));
    if (session !== undefined) written.push({ id: row.id, session });
  }
  return written;
}
