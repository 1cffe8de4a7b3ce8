import { z } from "zod";
import { formatAuditResource } from "../../src/audit/resource";
import { FHIR_EXPORT_FORMATS, FhirPageWriter } from "../../src/fhir/export-format";
import {
  bloodPressureObservation,
  deviceResource,
  type FhirContext,
  sampleObservation,
  sleepObservation,
  workoutObservation,
} from "../../src/fhir/resources";
import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import { exportIdSchema } from "./export";
import { type ObservationRow, queryRawObservations, SELECT_OBSERVATIONS, storedMetrics, toObservation } from "./query";
import type { Observation } from "./schema";
import { metricCodeSchema } from "./schema";
import { listSleepSessions, listWorkouts } from "./sessions-read";
import { UTC_ZONE } from "./zone";

/**
 * A person's store as FHIR R4 resources, a page at a time, for the streamed FHIR export and the
 * archive's `fhir/bundle.json` (src/fhir/export-stream.ts). The resources are built here, beside
 * the rows, and cross the RPC boundary as text: a year of minute heart rate is ~525k resources,
 * and one string per page is far cheaper to send than as many structured-cloned objects.
 *
 * The export is a sequence of parts, each one range scan oldest first: one per stored metric
 * (samples), blood-pressure panels (a systolic sample with the diastolic of the same source record
 * and start; either one without its partner is exported alone, as a sample), sleep, workouts, and
 * the devices that recorded anything. Runs inside the caller's serialized section; the caller
 * audits the plan and the first page of each part.
 */
export const FHIR_EXPORT_PARTS = ["samples", "blood_pressure", "diastolic", "sleep", "workouts", "devices"] as const;
export type FhirExportPart = (typeof FHIR_EXPORT_PARTS)[number];

export const MAX_FHIR_EXPORT_PAGE = 5_000;
/** Sessions carry their stages: pages of them stay smaller. */
const MAX_SESSION_PAGE = 1_000;
const MAX_DEVICES = 1_000;
const EPOCH_MS_MAX = 253_402_300_799_999;
const END_OF_TIME = 253_402_300_800_000;
const SYSTOLIC = "blood_pressure_systolic";
const DIASTOLIC = "blood_pressure_diastolic";

const epochMs = z.number().int().min(0).max(EPOCH_MS_MAX);
const scopeShape = {
  exportId: exportIdSchema,
  /** The FHIR base of references and `fullUrl`s, e.g. `https://api.pulse.example/v1/fhir`. */
  baseUrl: z
    .string()
    .max(200)
    .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*[^\s?#/])?$/, "must be an http(s) URL without a trailing slash"),
  /** Samples starting in [since, until); sessions overlapping it. */
  since: epochMs.optional(),
  until: epochMs.optional(),
};
const orderedRange = (scope: { since?: number | undefined; until?: number | undefined }) =>
  scope.since === undefined || scope.until === undefined || scope.since <= scope.until;

export const fhirExportScopeSchema = z
  .strictObject(scopeShape)
  .refine(orderedRange, { path: ["until"], message: "until must not be before since" });
export type FhirExportScope = z.input<typeof fhirExportScopeSchema>;
type ParsedScope = z.output<typeof fhirExportScopeSchema>;

export const fhirExportPageQuerySchema = z
  .strictObject({
    ...scopeShape,
    part: z.enum(FHIR_EXPORT_PARTS),
    metric: metricCodeSchema.optional(),
    format: z.enum(FHIR_EXPORT_FORMATS),
    cursor: z.string().min(1).max(200).optional(),
    limit: z.number().int().min(1).max(MAX_FHIR_EXPORT_PAGE).default(1_000),
  })
  .refine(orderedRange, { path: ["until"], message: "until must not be before since" })
  .refine((query) => (query.part === "samples") === (query.metric !== undefined), {
    path: ["metric"],
    message: "a metric is required for samples, and only for them",
  })
  .refine((query) => query.metric !== SYSTOLIC && query.metric !== DIASTOLIC, {
    path: ["metric"],
    message: "blood pressure is exported as panels (part blood_pressure)",
  });
export type FhirExportPageQuery = z.input<typeof fhirExportPageQuerySchema>;
type ParsedPageQuery = z.output<typeof fhirExportPageQuerySchema>;

/** One part of the export, in the order the export writes them. */
export interface FhirExportPartRef {
  part: FhirExportPart;
  metric?: string;
}

export interface FhirExportPage {
  /** The page's resources in the asked format; empty when the page is. */
  text: string;
  count: number;
  nextCursor: string | null;
}

/** The parts this store's export consists of: every stored metric, then panels, sessions, devices. */
export function fhirExportPlan(sql: SqlStorage): FhirExportPartRef[] {
  const metrics = storedMetrics(sql);
  const parts: FhirExportPartRef[] = metrics
    .filter((metric) => metric !== SYSTOLIC && metric !== DIASTOLIC)
    .map((metric) => ({ part: "samples", metric }));
  if (metrics.includes(SYSTOLIC)) parts.push({ part: "blood_pressure" });
  if (metrics.includes(DIASTOLIC)) parts.push({ part: "diastolic" });
  parts.push({ part: "sleep" }, { part: "workouts" }, { part: "devices" });
  return parts;
}

/** The audit resource of the export as a whole: its id and period. */
export function fhirExportResource(scope: ParsedScope): string {
  return formatAuditResource({ kind: "fhir_export", since: scope.since, until: scope.until, id: scope.exportId });
}

/** The audit resource of one part: `export:<id>:<file>`-like, with the metrics it holds. */
export function fhirExportPartResource(query: ParsedPageQuery): string {
  const metrics = partMetrics(query);
  return formatAuditResource({
    kind: "fhir_export",
    metrics,
    since: query.since,
    until: query.until,
    id: `${query.exportId}:${partFile(query)}`,
  });
}

function partMetrics(query: ParsedPageQuery): string[] {
  switch (query.part) {
    case "samples":
      return query.metric === undefined ? [] : [query.metric];
    case "blood_pressure":
      return [SYSTOLIC, DIASTOLIC];
    case "diastolic":
      return [DIASTOLIC];
    case "sleep":
      return ["sleep"];
    case "workouts":
      return ["workout"];
    case "devices":
      return [];
  }
}

function partFile(query: ParsedPageQuery): string {
  if (query.part === "samples") return `Observation/${query.metric ?? ""}`;
  return query.part === "devices" ? "Device" : `Observation/${query.part}`;
}

export function readFhirExportPage(sql: SqlStorage, query: ParsedPageQuery, userId: string): FhirExportPage {
  const ctx: FhirContext = { baseUrl: query.baseUrl, userId };
  const writer = new FhirPageWriter(query.format, query.baseUrl);
  let nextCursor: string | null = null;
  switch (query.part) {
    case "samples": {
      if (query.metric === undefined) throw new Error("unreachable: samples page without a metric");
      const page = queryRawObservations(sql, {
        metric: query.metric,
        resolution: "raw",
        zone: UTC_ZONE,
        limit: query.limit,
        since: query.since,
        until: query.until,
        cursor: query.cursor,
      });
      for (const observation of page.items) writer.add(sampleObservation(observation, ctx));
      nextCursor = page.nextCursor;
      break;
    }
    case "blood_pressure":
      nextCursor = bloodPressurePage(sql, query, ctx, writer);
      break;
    case "diastolic":
      nextCursor = unpairedDiastolicPage(sql, query, ctx, writer);
      break;
    case "sleep": {
      const page = listSleepSessions(sql, sessionQuery(query));
      for (const session of page.items) writer.add(sleepObservation(session, ctx));
      nextCursor = page.nextCursor;
      break;
    }
    case "workouts": {
      const page = listWorkouts(sql, sessionQuery(query));
      for (const workout of page.items) writer.add(workoutObservation(workout, ctx));
      nextCursor = page.nextCursor;
      break;
    }
    case "devices":
      for (const name of deviceNames(sql)) writer.add(deviceResource({ name }, ctx));
      break;
  }
  return { text: writer.text, count: writer.count, nextCursor };
}

type PairedRow = ObservationRow & {
  d_id: number | null;
  d_start_ms: number | null;
  d_end_ms: number | null;
  d_value: number | null;
  d_unit: string | null;
  d_zone_offset_seconds: number | null;
  d_local_date: string | null;
  d_flagged: number | null;
};

/**
 * Systolic samples oldest first, each joined to the diastolic of the same source record and start
 * (the unique sample key makes that at most one row): a pair is one 85354-9 panel, a systolic
 * alone is exported as its own sample.
 */
function bloodPressurePage(sql: SqlStorage, query: ParsedPageQuery, ctx: FhirContext, writer: FhirPageWriter): string | null {
  const [afterStart, afterId] = decodeCursor(query.cursor, "fhir-blood-pressure", ["int", "int"]) ?? [0, 0];
  const select = SELECT_OBSERVATIONS.replace(
    " FROM observations o",
    `, d.id AS d_id, d.start_ms AS d_start_ms, d.end_ms AS d_end_ms, d.value AS d_value, d.unit AS d_unit,
      d.zone_offset_seconds AS d_zone_offset_seconds, d.local_date AS d_local_date, d.flagged AS d_flagged
     FROM observations o`,
  );
  const rows = sql
    .exec<PairedRow>(
      `${select}
       LEFT JOIN observations d ON d.record_id = o.record_id AND d.metric = '${DIASTOLIC}' AND d.start_ms = o.start_ms
       WHERE o.metric = '${SYSTOLIC}' AND o.start_ms >= ? AND o.start_ms < ? AND (o.start_ms > ? OR o.id > ?)
       ORDER BY o.start_ms, o.id LIMIT ?`,
      Math.max(query.since ?? 0, afterStart),
      query.until ?? END_OF_TIME,
      afterStart,
      afterId,
      query.limit + 1,
    )
    .toArray();
  const items = rows.slice(0, query.limit);
  for (const row of items) {
    const systolic = toObservation(row);
    const diastolic = partnerOf(systolic, row);
    writer.add(diastolic === null ? sampleObservation(systolic, ctx) : bloodPressureObservation(systolic, diastolic, ctx));
  }
  const last = items.at(-1);
  return rows.length > query.limit && last !== undefined ? encodeCursor("fhir-blood-pressure", [last.start_ms, last.id]) : null;
}

function partnerOf(systolic: Observation, row: PairedRow): Observation | null {
  if (row.d_id === null || row.d_start_ms === null || row.d_end_ms === null || row.d_value === null) return null;
  return {
    ...systolic,
    id: row.d_id,
    metric: DIASTOLIC,
    start: row.d_start_ms,
    end: row.d_end_ms,
    value: row.d_value,
    unit: row.d_unit ?? systolic.unit,
    zoneOffsetSeconds: row.d_zone_offset_seconds,
    localDate: row.d_local_date ?? systolic.localDate,
    flagged: row.d_flagged === 1,
  };
}

/** Diastolic samples with no systolic partner: exported alone, as samples. */
function unpairedDiastolicPage(sql: SqlStorage, query: ParsedPageQuery, ctx: FhirContext, writer: FhirPageWriter): string | null {
  const [afterStart, afterId] = decodeCursor(query.cursor, "fhir-diastolic", ["int", "int"]) ?? [0, 0];
  const rows = sql
    .exec<ObservationRow>(
      `${SELECT_OBSERVATIONS}
       WHERE o.metric = '${DIASTOLIC}' AND o.start_ms >= ? AND o.start_ms < ? AND (o.start_ms > ? OR o.id > ?)
         AND NOT EXISTS (SELECT 1 FROM observations s
                         WHERE s.record_id = o.record_id AND s.metric = '${SYSTOLIC}' AND s.start_ms = o.start_ms)
       ORDER BY o.start_ms, o.id LIMIT ?`,
      Math.max(query.since ?? 0, afterStart),
      query.until ?? END_OF_TIME,
      afterStart,
      afterId,
      query.limit + 1,
    )
    .toArray();
  const items = rows.slice(0, query.limit);
  for (const row of items) writer.add(sampleObservation(toObservation(row), ctx));
  const last = items.at(-1);
  return rows.length > query.limit && last !== undefined ? encodeCursor("fhir-diastolic", [last.start_ms, last.id]) : null;
}

function sessionQuery(query: ParsedPageQuery) {
  return {
    limit: Math.min(query.limit, MAX_SESSION_PAGE),
    since: query.since,
    until: query.until,
    cursor: query.cursor,
  };
}

/**
 * Every device name that recorded anything in the store, whatever the period: a handful of rows
 * in practice, read from the records (not the samples), so a year costs one short scan.
 */
function deviceNames(sql: SqlStorage): string[] {
  return sql
    .exec<{ device: string }>(
      `SELECT device FROM observation_records WHERE device IS NOT NULL
       UNION SELECT device FROM sleep_sessions WHERE device IS NOT NULL
       UNION SELECT device FROM workouts WHERE device IS NOT NULL
       ORDER BY device LIMIT ${MAX_DEVICES}`,
    )
    .toArray()
    .map((row) => row.device);
}
