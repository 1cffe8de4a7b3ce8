import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import type { ParsedObservationQuery } from "./read-schema";
import type { Observation, Page } from "./schema";

/**
 * Raw observation reads, ordered by (start, id) (or newest first, `order: "desc"`) so pages are
 * stable while new data arrives; the cursor is the (start, id) of the last item returned. Each metric is read as one range scan of
 * `observations_metric_start` (whose entries end with the rowid, so they are already in (start,
 * id) order) and the per-metric pages are merged: no sort of the whole range. Runs inside the
 * caller's transaction.
 */
export type ObservationRow = {
  id: number;
  metric: string;
  start_ms: number;
  end_ms: number;
  value: number;
  unit: string;
  source_kind: string;
  source_app: string;
  device: string | null;
  source_record_id: string;
  zone_offset_seconds: number | null;
  local_date: string;
  flagged: number;
  version: number;
};

export const SELECT_OBSERVATIONS = `SELECT o.id, o.metric, o.start_ms, o.end_ms, o.value, o.unit, r.source_kind, r.source_app,
    r.device, r.source_record_id, o.zone_offset_seconds, o.local_date, o.flagged, r.version
  FROM observations o JOIN observation_records r ON r.id = o.record_id`;
const END_OF_TIME = 253_402_300_800_000;

export function queryRawObservations(sql: SqlStorage, query: ParsedObservationQuery): Page<Observation> {
  const metrics = query.metrics ?? (query.metric === undefined ? storedMetrics(sql) : [query.metric]);
  const descending = query.order === "desc";
  // Bound to the metrics asked for (and to the order, so a cursor cannot be replayed the other way);
  // the window may move between pages (it defaults to "until now").
  const metricFilter = query.metrics ?? query.metric ?? null;
  const filters = descending ? { metrics: metricFilter, order: "desc" } : metricFilter;
  const after = decodeCursor(query.cursor, "observations", ["int", "int"], filters);
  const since = Math.max(query.since ?? 0, descending ? 0 : (after?.[0] ?? 0));
  const until = Math.min(query.until ?? END_OF_TIME, descending && after !== undefined ? after[0] + 1 : END_OF_TIME);
  const direction = descending ? "DESC" : "ASC";
  // Past the cursor's (start, id) in the order read: later (or, newest first, earlier) pairs.
  const past = descending ? "(o.start_ms < ? OR o.id < ?)" : "(o.start_ms > ? OR o.id > ?)";
  const rows: ObservationRow[] = [];
  for (const metric of new Set(metrics)) {
    const page =
      after === undefined
        ? sql.exec<ObservationRow>(
            `${SELECT_OBSERVATIONS} WHERE o.metric = ? AND o.start_ms >= ? AND o.start_ms < ?
             ORDER BY o.start_ms ${direction}, o.id ${direction} LIMIT ?`,
            metric,
            since,
            until,
            query.limit + 1,
          )
        : sql.exec<ObservationRow>(
            `${SELECT_OBSERVATIONS} WHERE o.metric = ? AND o.start_ms >= ? AND o.start_ms < ? AND ${past}
             ORDER BY o.start_ms ${direction}, o.id ${direction} LIMIT ?`,
            metric,
            since,
            until,
            after[0],
            after[1],
            query.limit + 1,
          );
    rows.push(...page);
  }
  const sign = descending ? -1 : 1;
  rows.sort((a, b) => sign * (a.start_ms - b.start_ms || a.id - b.id));
  const items = rows.slice(0, query.limit).map(toObservation);
  const last = items.at(-1);
  return {
    items,
    nextCursor:
      rows.length > query.limit && last !== undefined ? encodeCursor("observations", [last.start, last.id], filters) : null,
  };
}

/**
 * The most recent observation of each metric that has one, in the order asked; with `bounds`, the
 * most recent starting in [since, until) (a grantee sees the latest within their grant's period).
 */
export function latestObservations(
  sql: SqlStorage,
  metrics: readonly string[],
  bounds: { since: number; until: number } = { since: 0, until: END_OF_TIME },
): Observation[] {
  const latest: Observation[] = [];
  for (const metric of new Set(metrics)) {
    const [row] = sql
      .exec<ObservationRow>(
        `${SELECT_OBSERVATIONS} WHERE o.metric = ? AND o.start_ms >= ? AND o.start_ms < ? ORDER BY o.start_ms DESC, o.id DESC LIMIT 1`,
        metric,
        bounds.since,
        bounds.until,
      )
      .toArray();
    if (row !== undefined) latest.push(toObservation(row));
  }
  return latest;
}

/** Distinct metrics by skipping through the index (a loose index scan): one seek per metric. */
export function storedMetrics(sql: SqlStorage): string[] {
  return sql
    .exec<{ metric: string }>(
      `WITH RECURSIVE m(metric) AS (
         SELECT MIN(metric) FROM observations
         UNION ALL
         SELECT (SELECT MIN(metric) FROM observations WHERE metric > m.metric) FROM m WHERE m.metric IS NOT NULL
       )
       SELECT metric FROM m WHERE metric IS NOT NULL`,
    )
    .toArray()
    .map((row) => row.metric);
}

export function toObservation(row: ObservationRow): Observation {
  return {
    id: row.id,
    metric: row.metric,
    start: row.start_ms,
    end: row.end_ms,
    value: row.value,
    unit: row.unit,
    // The table's CHECK constraint admits only these two.
    sourceKind: row.source_kind === "provider" ? "provider" : "upload",
    sourceApp: row.source_app,
    device: row.device,
    sourceRecordId: row.source_record_id,
    zoneOffsetSeconds: row.zone_offset_seconds,
    localDate: row.local_date,
    flagged: row.flagged === 1,
    version: row.version,
  };
}
