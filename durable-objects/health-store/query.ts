import { decodeCursor, encodeCursor } from "./cursor";
import type { Observation, Page, ParsedObservationQuery } from "./schema";

/**
 * Observation reads, ordered by (start, id) so pages are stable while new data arrives. The
 * cursor is the (start, id) of the last item returned. Runs inside the caller's transaction.
 */
type ObservationRow = {
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

export function queryObservations(sql: SqlStorage, query: ParsedObservationQuery): Page<Observation> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.metric !== undefined) {
    where.push("metric = ?");
    params.push(query.metric);
  }
  if (query.since !== undefined) {
    where.push("start_ms >= ?");
    params.push(query.since);
  }
  if (query.until !== undefined) {
    where.push("start_ms < ?");
    params.push(query.until);
  }
  if (query.cursor !== undefined) {
    where.push("(start_ms, id) > (?, ?)");
    params.push(...decodeCursor(query.cursor, 2));
  }
  const rows = sql
    .exec<ObservationRow>(
      `SELECT id, metric, start_ms, end_ms, value, unit, source_kind, source_app, device, source_record_id,
              zone_offset_seconds, local_date, flagged, version
       FROM observations ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY start_ms, id LIMIT ?`,
      ...params,
      query.limit + 1,
    )
    .toArray();
  const items = rows.slice(0, query.limit).map(toObservation);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor([last.start, last.id]) : null };
}

function toObservation(row: ObservationRow): Observation {
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
