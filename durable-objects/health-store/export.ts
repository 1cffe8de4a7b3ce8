import { z } from "zod";
import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import { listAuditEventsInOrder } from "./audit-log";
import { storedMetrics } from "./query";
import { metricCodeSchema } from "./schema";
import { listSleepSessions, listWorkouts } from "./sessions-read";

/**
 * A person's whole store, read a page at a time for their export archive (src/exports/). Pages
 * come back as NDJSON text, ready to be compressed: a year of minute heart rate is ~525k rows, and
 * text crosses the RPC boundary far cheaper than as many structured-cloned objects. Each file of
 * the archive is one `kind` (and metric), oldest first, so the archive reads like a history.
 * Runs inside the caller's serialized section; the first page of a file is audited by the caller.
 */
export const EXPORT_PAGE_KINDS = ["observations", "sleep", "workouts", "access-log"] as const;
export type ExportPageKind = (typeof EXPORT_PAGE_KINDS)[number];

export const MAX_EXPORT_PAGE = 5_000;

export const exportIdSchema = z.string().regex(/^exp_[a-z2-7]{26}$/, "must be an exp_ id");

export const exportPageQuerySchema = z
  .strictObject({
    exportId: exportIdSchema,
    kind: z.enum(EXPORT_PAGE_KINDS),
    metric: metricCodeSchema.optional(),
    cursor: z.string().min(1).max(200).optional(),
    limit: z.number().int().min(1).max(MAX_EXPORT_PAGE).default(1_000),
  })
  .refine((query) => (query.kind === "observations") === (query.metric !== undefined), {
    path: ["metric"],
    message: "a metric is required for observations, and only for them",
  });
export type ExportPageQuery = z.input<typeof exportPageQuerySchema>;
export type ParsedExportPageQuery = z.output<typeof exportPageQuerySchema>;

export interface ExportPage {
  /** One JSON document a line, each ending in "\n"; empty when the page is. */
  lines: string;
  count: number;
  nextCursor: string | null;
}

/** What the archive will hold: the metrics that have observations (the other files always exist). */
export interface ExportInventory {
  metrics: string[];
}

type ObservationExportRow = {
  id: number;
  start_ms: number;
  end_ms: number;
  value: number;
  unit: string;
  source_kind: string;
  source_app: string;
  source_record_id: string;
  version: number;
  device: string | null;
  zone_offset_seconds: number | null;
  local_date: string;
  flagged: number;
};

export function exportInventory(sql: SqlStorage): ExportInventory {
  return { metrics: storedMetrics(sql) };
}

/** The file a page belongs to, as the audit event's resource names it. */
export function exportFileName(query: ParsedExportPageQuery): string {
  return query.kind === "observations" ? `observations/${query.metric ?? ""}` : query.kind;
}

export function readExportPage(sql: SqlStorage, query: ParsedExportPageQuery): ExportPage {
  switch (query.kind) {
    case "observations":
      return observationPage(sql, query.metric ?? "", query);
    case "sleep": {
      const page = listSleepSessions(sql, sessionQuery(query));
      return toPage(
        page.items.map(({ id: _id, start, end, stages, ...rest }) => ({
          start: iso(start),
          end: iso(end),
          ...rest,
          stages: stages.map((stage) => ({ stage: stage.stage, start: iso(stage.start), end: iso(stage.end) })),
        })),
        page.nextCursor,
      );
    }
    case "workouts": {
      const page = listWorkouts(sql, sessionQuery(query));
      return toPage(
        page.items.map(({ id: _id, start, end, ...rest }) => ({ start: iso(start), end: iso(end), ...rest })),
        page.nextCursor,
      );
    }
    case "access-log": {
      const after = decodeCursor(query.cursor, "export-access-log", ["int"]) ?? [0];
      const events = listAuditEventsInOrder(sql, { afterSeq: after[0], limit: query.limit });
      const last = events.at(-1);
      const more = events.length === query.limit && last !== undefined;
      return toPage(events, more ? encodeCursor("export-access-log", [last.seq]) : null);
    }
  }
}

/** One metric oldest first by (start, id): one range scan of `observations_metric_start`. */
function observationPage(sql: SqlStorage, metric: string, query: ParsedExportPageQuery): ExportPage {
  const [afterStart, afterId] = decodeCursor(query.cursor, "export-observations", ["int", "int"], metric) ?? [-1, 0];
  const rows = sql
    .exec<ObservationExportRow>(
      `SELECT o.id, o.start_ms, o.end_ms, o.value, o.unit, r.source_kind, r.source_app, r.source_record_id, r.version,
         r.device, o.zone_offset_seconds, o.local_date, o.flagged
       FROM observations o JOIN observation_records r ON r.id = o.record_id
       WHERE o.metric = ? AND o.start_ms >= ? AND (o.start_ms > ? OR o.id > ?)
       ORDER BY o.start_ms, o.id LIMIT ?`,
      metric,
      Math.max(afterStart, 0),
      afterStart,
      afterId,
      query.limit + 1,
    )
    .toArray();
  const items = rows.slice(0, query.limit);
  let lines = "";
  for (const row of items) {
    lines += `${JSON.stringify({
      start: iso(row.start_ms),
      end: iso(row.end_ms),
      value: row.value,
      unit: row.unit,
      sourceKind: row.source_kind,
      sourceApp: row.source_app,
      sourceRecordId: row.source_record_id,
      version: row.version,
      device: row.device,
      zoneOffsetSeconds: row.zone_offset_seconds,
      localDate: row.local_date,
      flagged: row.flagged === 1,
    })}\n`;
  }
  const last = items.at(-1);
  const nextCursor =
    rows.length > query.limit && last !== undefined
      ? encodeCursor("export-observations", [last.start_ms, last.id], metric)
      : null;
  return { lines, count: items.length, nextCursor };
}

function sessionQuery(query: ParsedExportPageQuery) {
  return { limit: Math.min(query.limit, 1_000), ...(query.cursor === undefined ? {} : { cursor: query.cursor }) };
}

function toPage(items: readonly unknown[], nextCursor: string | null): ExportPage {
  let lines = "";
  for (const item of items) lines += `${JSON.stringify(item)}\n`;
  return { lines, count: items.length, nextCursor };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
