import { z } from "zod";
import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import { listAuditEventsInOrder } from "./audit-log";
import { queryRawObservations, storedMetrics } from "./query";
import { metricCodeSchema } from "./schema";
import { listSleepSessions, listWorkouts } from "./sessions-read";
import { UTC_ZONE } from "./zone";

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
      // The schema requires a metric for observation pages.
      if (query.metric === undefined) throw new Error("unreachable: observations page without a metric");
      return observationPage(sql, query.metric, query);
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

/** One metric oldest first by (start, id): the raw read's range scan, a page at a time. */
function observationPage(sql: SqlStorage, metric: string, query: ParsedExportPageQuery): ExportPage {
  const page = queryRawObservations(sql, {
    metric,
    resolution: "raw",
    zone: UTC_ZONE,
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
  });
  let lines = "";
  for (const { id: _id, metric: _metric, start, end, ...rest } of page.items) {
    lines += `${JSON.stringify({ start: iso(start), end: iso(end), ...rest })}\n`;
  }
  return { lines, count: page.items.length, nextCursor: page.nextCursor };
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
