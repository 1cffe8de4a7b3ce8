import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import type { ParsedSessionListQuery, SessionSource, SleepSession, SleepTotals, Workout } from "./read-schema";
import type { Page } from "./schema";
import { SLEEP_STAGES, type SleepStage } from "./session-schema";

/**
 * Sleep sessions and workouts that overlap [since, until), oldest first by (start, id); the cursor
 * is that pair for the last item. Runs inside the caller's transaction.
 */
export type SessionRow = {
  id: number;
  source_kind: string;
  source_app: string;
  source_record_id: string;
  version: number;
  start_ms: number;
  end_ms: number;
  zone_offset_seconds: number | null;
  local_date: string;
  title: string | null;
  notes: string | null;
  device: string | null;
  flagged: number;
};
type StageRow = { session_id: number; stage: string; start_ms: number; end_ms: number };

export const SESSION_COLUMNS = `id, source_kind, source_app, source_record_id, version, start_ms, end_ms, zone_offset_seconds,
  local_date, title, notes, device, flagged`;
const END_OF_TIME = 253_402_300_800_000;
/** Stages that count as time asleep; awake, awake in bed, out of bed and unknown do not. */
const ASLEEP_STAGES: ReadonlySet<SleepStage> = new Set(["sleeping", "light", "deep", "rem"]);

export function listSleepSessions(sql: SqlStorage, query: ParsedSessionListQuery): Page<SleepSession> {
  const page = listSessions<SessionRow>(sql, "sleep_sessions", SESSION_COLUMNS, query);
  const stages = stagesOf(
    sql,
    page.items.map((row) => row.id),
  );
  return { items: page.items.map((row) => toSleepSession(row, stages.get(row.id) ?? [])), nextCursor: page.nextCursor };
}

export function listWorkouts(sql: SqlStorage, query: ParsedSessionListQuery): Page<Workout> {
  const page = listSessions<SessionRow & { exercise_type: string }>(sql, "workouts", `${SESSION_COLUMNS}, exercise_type`, query);
  return {
    items: page.items.map((row) => ({ ...toSource(row), exerciseType: row.exercise_type })),
    nextCursor: page.nextCursor,
  };
}

/**
 * Sleep sessions that end in [from, to) (and start at or after `startsFrom`), with their stages;
 * the daily summary's night.
 */
export function sleepEndingBetween(sql: SqlStorage, from: number, to: number, startsFrom = 0): SleepSession[] {
  const rows = sql
    .exec<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sleep_sessions WHERE end_ms >= ? AND end_ms < ? AND start_ms >= ? ORDER BY start_ms, id`,
      from,
      to,
      startsFrom,
    )
    .toArray();
  const stages = stagesOf(
    sql,
    rows.map((row) => row.id),
  );
  return rows.map((row) => toSleepSession(row, stages.get(row.id) ?? []));
}

export function sleepTotals(start: number, end: number, stages: readonly SleepSession["stages"][number][]): SleepTotals {
  const byStage: Partial<Record<SleepStage, number>> = {};
  let asleepMs = 0;
  for (const stage of stages) {
    const duration = stage.end - stage.start;
    byStage[stage.stage] = (byStage[stage.stage] ?? 0) + duration;
    if (ASLEEP_STAGES.has(stage.stage)) asleepMs += duration;
  }
  return { inBedMs: end - start, asleepMs: stages.length === 0 ? end - start : asleepMs, byStage };
}

function listSessions<Row extends SessionRow>(
  sql: SqlStorage,
  table: "sleep_sessions" | "workouts",
  columns: string,
  query: ParsedSessionListQuery,
): Page<Row> {
  const [afterStart = 0, afterId = 0] = decodeCursor(query.cursor, table, ["int", "int"]) ?? [];
  const since = query.since ?? 0;
  const within = query.within ?? { since: 0, until: END_OF_TIME };
  // One range scan of (start_ms, rowid) from the cursor on, already in page order. [start, end)
  // overlaps [since, until); a zero-length session counts when it lies inside. With `within`, a
  // session reaching outside that period is left out whole: its stages there are not the reader's.
  const rows = sql
    .exec<Row>(
      `SELECT ${columns} FROM ${table}
       WHERE start_ms >= ? AND start_ms < ? AND (start_ms > ? OR id > ?) AND (end_ms > ? OR start_ms >= ?)
         AND start_ms >= ? AND end_ms <= ?
       ORDER BY start_ms, id LIMIT ?`,
      afterStart,
      query.until ?? END_OF_TIME,
      afterStart,
      afterId,
      since,
      since,
      within.since,
      within.until,
      query.limit + 1,
    )
    .toArray();
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(table, [last.start_ms, last.id]) : null,
  };
}

export function stagesOf(sql: SqlStorage, sessionIds: readonly number[]): Map<number, SleepSession["stages"]> {
  const stages = new Map<number, SleepSession["stages"]>();
  if (sessionIds.length === 0) return stages;
  const rows = sql.exec<StageRow>(
    `SELECT session_id, stage, start_ms, end_ms FROM sleep_stages
     WHERE session_id IN (SELECT value FROM json_each(?)) ORDER BY session_id, start_ms, id`,
    JSON.stringify(sessionIds),
  );
  for (const row of rows) {
    const list = stages.get(row.session_id) ?? [];
    list.push({ stage: toStage(row.stage), start: row.start_ms, end: row.end_ms });
    stages.set(row.session_id, list);
  }
  return stages;
}

export function toSleepSession(row: SessionRow, stages: SleepSession["stages"]): SleepSession {
  return { ...toSource(row), stages, totals: sleepTotals(row.start_ms, row.end_ms, stages) };
}

export function toSource(row: SessionRow): SessionSource {
  return {
    id: row.id,
    // The tables' CHECK constraints admit only these values.
    sourceKind: row.source_kind === "provider" ? "provider" : "upload",
    sourceApp: row.source_app,
    sourceRecordId: row.source_record_id,
    version: row.version,
    start: row.start_ms,
    end: row.end_ms,
    zoneOffsetSeconds: row.zone_offset_seconds,
    localDate: row.local_date,
    title: row.title,
    notes: row.notes,
    device: row.device,
    flagged: row.flagged === 1,
  };
}

function toStage(value: string): SleepStage {
  return SLEEP_STAGES.find((stage) => stage === value) ?? "unknown";
}
