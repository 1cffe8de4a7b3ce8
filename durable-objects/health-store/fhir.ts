import { z } from "zod";
import { formatAuditResource } from "../../src/audit/resource";
import { DomainError } from "../../src/errors/domain-error";
import { observationId } from "../../src/fhir/ids";
import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import { spanAggregate } from "./aggregate";
import { type ObservationRow, SELECT_OBSERVATIONS, storedMetrics, toObservation } from "./query";
import { type ObservationBucket, periodSchema, type SleepSession, type Workout } from "./read-schema";
import { metricCodeSchema, type Observation, type Page } from "./schema";
import { SESSION_COLUMNS, type SessionRow, stagesOf, toSleepSession, toSource } from "./sessions-read";
import { longestSpanMs } from "./spans";

/**
 * What the FHIR API (src/fhir/) reads: every kind of Observation Pulse emits, merged into one
 * timeline, one item by its FHIR id, and the devices and apps the data came from. Runs inside the
 * caller's audited transaction.
 *
 * Kinds and their order on the timeline: plain samples, blood-pressure panels (a systolic and a
 * diastolic row of the same source record and start, read as one item and never as two samples),
 * sleep sessions, workouts. Items are ordered by (start, kind, id), or the reverse for newest first;
 * the cursor is that triple for the last item returned, so a page boundary falling inside a run of
 * equal starts across kinds neither skips nor repeats an item, and data stored between pages after
 * the cursor's position is read on a later page.
 *
 * Date bounds are on the item's effective period [start, end] (FHIR date search, src/fhir/dates.ts):
 * `start` and `end` each with an inclusive minimum and exclusive maximum.
 */
const EPOCH_MS_MAX = 253_402_300_799_999;
const END_OF_TIME = EPOCH_MS_MAX + 1;
const epochMs = z.number().int().min(0).max(END_OF_TIME);
const HOUR_MS = 3_600_000;

export const BLOOD_PRESSURE = { systolic: "blood_pressure_systolic", diastolic: "blood_pressure_diastolic" } as const;

const boundsSchema = z.strictObject({ min: epochMs.optional(), max: epochMs.optional() });

export const fhirSearchQuerySchema = z.strictObject({
  /** Sample metrics read; absent, every stored metric. Blood-pressure metrics here read only unpaired rows. */
  metrics: z.array(metricCodeSchema).max(100).optional(),
  bloodPressure: z.boolean(),
  sleep: z.boolean(),
  workouts: z.boolean(),
  start: boundsSchema.default({}),
  end: boundsSchema.default({}),
  /** A grantee's period: samples starting in it, sessions wholly inside it. */
  within: periodSchema.optional(),
  order: z.enum(["asc", "desc"]).default("asc"),
  limit: z.number().int().min(1).max(1_000),
  cursor: z.string().min(1).max(300).optional(),
});
export type FhirSearchQuery = z.input<typeof fhirSearchQuerySchema>;
export type ParsedFhirSearchQuery = z.output<typeof fhirSearchQuerySchema>;

export type FhirItem =
  | { kind: "sample"; observation: Observation }
  | { kind: "blood_pressure"; systolic: Observation; diastolic: Observation }
  | { kind: "sleep"; session: SleepSession }
  | { kind: "workout"; workout: Workout };

const RANK: Record<FhirItem["kind"], number> = { sample: 0, blood_pressure: 1, sleep: 2, workout: 3 };

interface Keyed {
  start: number;
  rank: number;
  id: number;
  item: FhirItem;
}

/** The audited resource of a search: what it may read and over which start instants. */
export function fhirSearchResource(query: ParsedFhirSearchQuery): string {
  const metrics = query.metrics === undefined ? undefined : [...query.metrics];
  const named =
    metrics === undefined
      ? undefined
      : [
          ...metrics,
          ...(query.bloodPressure ? [BLOOD_PRESSURE.systolic, BLOOD_PRESSURE.diastolic] : []),
          ...(query.sleep ? ["sleep"] : []),
          ...(query.workouts ? ["workout"] : []),
        ];
  // The period the data read overlaps, as session lists record theirs: an item ending at or after
  // `end.min` lies (partly) in it even when it started before.
  const since = Math.max(query.start.min ?? 0, query.end.min ?? 0, query.within?.since ?? 0);
  const until = Math.min(query.start.max ?? END_OF_TIME, query.end.max ?? END_OF_TIME, query.within?.until ?? END_OF_TIME);
  return formatAuditResource({
    kind: "observations",
    metrics: named,
    since: since > 0 ? since : undefined,
    until: until < END_OF_TIME ? until : undefined,
  });
}

export function searchFhirObservations(sql: SqlStorage, query: ParsedFhirSearchQuery): Page<FhirItem> {
  const { cursor, limit: _limit, ...bound } = query;
  const after = decodeCursor(cursor, "fhir:observations", ["int", "int", "int"], bound);
  const scan = new Scan(query, after);
  const keyed: Keyed[] = [];
  const metrics = query.metrics ?? storedMetrics(sql);
  for (const metric of new Set(metrics)) keyed.push(...samples(sql, scan, metric));
  if (query.bloodPressure) keyed.push(...bloodPressurePanels(sql, scan));
  if (query.sleep) keyed.push(...sleepSessions(sql, scan));
  if (query.workouts) keyed.push(...workouts(sql, scan));
  const sign = query.order === "desc" ? -1 : 1;
  keyed.sort((a, b) => sign * (a.start - b.start || a.rank - b.rank || a.id - b.id));
  const page = keyed.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((entry) => entry.item),
    nextCursor:
      keyed.length > query.limit && last !== undefined
        ? encodeCursor("fhir:observations", [last.start, last.rank, last.id], bound)
        : null,
  };
}

/** The SQL conditions every kind shares: the date bounds, the grantee's period and the cursor. */
class Scan {
  readonly direction: "ASC" | "DESC";
  readonly limit: number;

  constructor(
    private readonly query: ParsedFhirSearchQuery,
    private readonly after: readonly [number, number, number] | undefined,
  ) {
    this.direction = query.order === "desc" ? "DESC" : "ASC";
    this.limit = query.limit + 1;
  }

  /**
   * `alias.start_ms`/`end_ms` conditions and their bindings; `wholly` keeps sessions inside the
   * period. `longestMs`, the longest duration stored of this kind, turns an end bound into a start
   * bound the index can use (an item ending at or after T started at or after T - longest).
   */
  where(alias: string, rank: number, wholly: boolean, longestMs: number): { sql: string; args: number[] } {
    const { start, end, within } = this.query;
    const parts: string[] = [];
    const args: number[] = [];
    const add = (text: string, ...values: number[]) => {
      parts.push(text);
      args.push(...values);
    };
    if (start.min !== undefined) add(`${alias}.start_ms >= ?`, start.min);
    if (start.max !== undefined) add(`${alias}.start_ms < ?`, start.max);
    if (end.min !== undefined) add(`${alias}.end_ms >= ? AND ${alias}.start_ms >= ?`, end.min, end.min - longestMs);
    // end < max implies start < max: a bound the start index can use.
    if (end.max !== undefined) add(`${alias}.end_ms < ? AND ${alias}.start_ms < ?`, end.max, end.max);
    if (within !== undefined) {
      add(`${alias}.start_ms >= ?`, within.since);
      if (wholly) add(`${alias}.end_ms <= ? AND ${alias}.start_ms < ?`, within.until, Math.max(within.until, within.since + 1));
      else add(`${alias}.start_ms < ?`, within.until);
    }
    if (this.after !== undefined) {
      const [afterStart, afterRank, afterId] = this.after;
      const descending = this.direction === "DESC";
      const beyond = descending ? "<" : ">";
      if (rank === afterRank)
        add(
          `(${alias}.start_ms ${beyond} ? OR (${alias}.start_ms = ? AND ${alias}.id ${beyond} ?))`,
          afterStart,
          afterStart,
          afterId,
        );
      // Kinds ordered after the cursor's at the same start come next; those before it are done.
      else if (descending ? rank < afterRank : rank > afterRank) add(`${alias}.start_ms ${beyond}= ?`, afterStart);
      else add(`${alias}.start_ms ${beyond} ?`, afterStart);
    }
    return { sql: parts.length === 0 ? "1" : parts.join(" AND "), args };
  }
}

/** A blood-pressure row's partner: the other metric of the same source record and start. */
function partnerOf(metric: string): string | undefined {
  if (metric === BLOOD_PRESSURE.systolic) return BLOOD_PRESSURE.diastolic;
  if (metric === BLOOD_PRESSURE.diastolic) return BLOOD_PRESSURE.systolic;
  return undefined;
}

function samples(sql: SqlStorage, scan: Scan, metric: string): Keyed[] {
  const where = scan.where("o", RANK.sample, false, longestSpanMs(sql, metric));
  const partner = partnerOf(metric);
  // A paired blood-pressure row is read as part of its panel, never on its own.
  const unpaired =
    partner === undefined
      ? ""
      : "AND NOT EXISTS (SELECT 1 FROM observations p WHERE p.record_id = o.record_id AND p.start_ms = o.start_ms AND p.metric = ?)";
  const rows = sql.exec<ObservationRow>(
    `${SELECT_OBSERVATIONS} WHERE o.metric = ? AND ${where.sql} ${unpaired}
     ORDER BY o.start_ms ${scan.direction}, o.id ${scan.direction} LIMIT ?`,
    metric,
    ...where.args,
    ...(partner === undefined ? [] : [partner]),
    scan.limit,
  );
  return [...rows].map((row) => ({
    start: row.start_ms,
    rank: RANK.sample,
    id: row.id,
    item: { kind: "sample", observation: toObservation(row) },
  }));
}

type PairRow = ObservationRow & { d_id: number; d_value: number; d_unit: string; d_flagged: number; d_end_ms: number };

const SELECT_PAIRS = `SELECT o.id, o.metric, o.start_ms, o.end_ms, o.value, o.unit, r.source_kind, r.source_app, r.device,
    r.source_record_id, o.zone_offset_seconds, o.local_date, o.flagged, r.version,
    d.id AS d_id, d.value AS d_value, d.unit AS d_unit, d.flagged AS d_flagged, d.end_ms AS d_end_ms
  FROM observations o JOIN observation_records r ON r.id = o.record_id
  JOIN observations d ON d.record_id = o.record_id AND d.start_ms = o.start_ms AND d.metric = '${BLOOD_PRESSURE.diastolic}'`;

function bloodPressurePanels(sql: SqlStorage, scan: Scan): Keyed[] {
  const where = scan.where("o", RANK.blood_pressure, false, longestSpanMs(sql, BLOOD_PRESSURE.systolic));
  const rows = sql.exec<PairRow>(
    `${SELECT_PAIRS} WHERE o.metric = ? AND ${where.sql} ORDER BY o.start_ms ${scan.direction}, o.id ${scan.direction} LIMIT ?`,
    BLOOD_PRESSURE.systolic,
    ...where.args,
    scan.limit,
  );
  return [...rows].map((row) => ({ start: row.start_ms, rank: RANK.blood_pressure, id: row.id, item: pairItem(row) }));
}

function pairItem(row: PairRow): FhirItem {
  const systolic = toObservation(row);
  const diastolic: Observation = {
    ...systolic,
    id: row.d_id,
    metric: BLOOD_PRESSURE.diastolic,
    value: row.d_value,
    unit: row.d_unit,
    end: row.d_end_ms,
    flagged: row.d_flagged === 1,
  };
  return { kind: "blood_pressure", systolic, diastolic };
}

function sleepSessions(sql: SqlStorage, scan: Scan): Keyed[] {
  const where = scan.where("s", RANK.sleep, true, longestSpanMs(sql, "sleep"));
  const rows = sql
    .exec<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sleep_sessions s WHERE ${where.sql} ORDER BY s.start_ms ${scan.direction}, s.id ${scan.direction} LIMIT ?`,
      ...where.args,
      scan.limit,
    )
    .toArray();
  const stages = stagesOf(
    sql,
    rows.map((row) => row.id),
  );
  return rows.map((row) => ({
    start: row.start_ms,
    rank: RANK.sleep,
    id: row.id,
    item: { kind: "sleep", session: toSleepSession(row, stages.get(row.id) ?? []) },
  }));
}

function workouts(sql: SqlStorage, scan: Scan): Keyed[] {
  const where = scan.where("w", RANK.workout, true, longestSpanMs(sql, "workout"));
  const rows = sql.exec<SessionRow & { exercise_type: string }>(
    `SELECT ${SESSION_COLUMNS}, exercise_type FROM workouts w WHERE ${where.sql}
     ORDER BY w.start_ms ${scan.direction}, w.id ${scan.direction} LIMIT ?`,
    ...where.args,
    scan.limit,
  );
  return [...rows].map((row) => ({
    start: row.start_ms,
    rank: RANK.workout,
    id: row.id,
    item: { kind: "workout", workout: { ...toSource(row), exerciseType: row.exercise_type } },
  }));
}

/** One Observation by its FHIR id (src/fhir/ids.ts), as the RPC receives it. */
export const fhirRefSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("sample"), rowId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ kind: z.literal("blood_pressure"), systolicRowId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ kind: z.literal("sleep"), sessionId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ kind: z.literal("workout"), workoutId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }),
  z.strictObject({ kind: z.literal("hourly"), metric: metricCodeSchema, start: z.number().int().min(0).max(EPOCH_MS_MAX) }),
]);
export type FhirRef = z.infer<typeof fhirRefSchema>;

/** What a reader may see of the store: the sample metrics, whether sessions, and a grantee's period. */
export const fhirScopeSchema = z.strictObject({
  /** Absent: every metric (the person themself). */
  metrics: z.array(metricCodeSchema).max(100).optional(),
  sleep: z.boolean(),
  workouts: z.boolean(),
  within: periodSchema.optional(),
});
export type FhirScope = z.input<typeof fhirScopeSchema>;
export type ParsedFhirScope = z.output<typeof fhirScopeSchema>;

export type FhirReadItem = FhirItem | { kind: "hourly"; bucket: ObservationBucket };

/** The audited action of a read by id: found before the read (unaudited), re-checked inside it. */
export interface LocatedRef {
  action: "observations.read" | "sleep.read" | "workouts.read";
  resource: string;
}

/**
 * Where an id points, without reading its values, or null when it names nothing this reader may
 * see: the audit event of the read needs the metric and instant before the read itself happens.
 */
export function locateFhirObservation(sql: SqlStorage, ref: FhirRef, scope: ParsedFhirScope): LocatedRef | null {
  const id = observationId(ref);
  const instant = (start: number, end: number) => ({ since: start, until: Math.max(end, start + 1) });
  switch (ref.kind) {
    case "sample":
    case "blood_pressure": {
      const rowId = ref.kind === "sample" ? ref.rowId : ref.systolicRowId;
      const [row] = sql
        .exec<{ metric: string; start_ms: number; end_ms: number }>(
          "SELECT metric, start_ms, end_ms FROM observations WHERE id = ?",
          rowId,
        )
        .toArray();
      if (row === undefined) return null;
      const metrics = ref.kind === "sample" ? [row.metric] : [BLOOD_PRESSURE.systolic, BLOOD_PRESSURE.diastolic];
      if (!metrics.every((metric) => sees(scope, metric, row.start_ms))) return null;
      return {
        action: "observations.read",
        resource: formatAuditResource({ kind: "observations", metrics, ...instant(row.start_ms, row.end_ms), id }),
      };
    }
    case "sleep":
    case "workout": {
      const table = ref.kind === "sleep" ? "sleep_sessions" : "workouts";
      const rowId = ref.kind === "sleep" ? ref.sessionId : ref.workoutId;
      const [row] = sql
        .exec<{ start_ms: number; end_ms: number }>(`SELECT start_ms, end_ms FROM ${table} WHERE id = ?`, rowId)
        .toArray();
      if (row === undefined || !seesSession(scope, ref.kind, row.start_ms, row.end_ms)) return null;
      const kind = ref.kind === "sleep" ? "sleep" : "workouts";
      return {
        action: ref.kind === "sleep" ? "sleep.read" : "workouts.read",
        resource: formatAuditResource({ kind, metrics: [ref.kind], ...instant(row.start_ms, row.end_ms), id }),
      };
    }
    case "hourly": {
      const end = ref.start + HOUR_MS;
      // Hours are UTC hours; a grantee's period must hold the whole hour.
      if (ref.start % HOUR_MS !== 0 || !sees(scope, ref.metric, ref.start) || !sees(scope, ref.metric, end - 1)) return null;
      return {
        action: "observations.read",
        resource: formatAuditResource({ kind: "observations", metrics: [ref.metric], since: ref.start, until: end, id }),
      };
    }
  }
}

/** Reads what `locateFhirObservation` found; NOT_FOUND when it changed since (the event is then not kept). */
export function readFhirObservation(sql: SqlStorage, ref: FhirRef, scope: ParsedFhirScope): FhirReadItem {
  const found = readRef(sql, ref);
  if (found === null || locateFhirObservation(sql, ref, scope) === null) throw notFound();
  return found;
}

function readRef(sql: SqlStorage, ref: FhirRef): FhirReadItem | null {
  switch (ref.kind) {
    case "sample": {
      const [row] = sql.exec<ObservationRow>(`${SELECT_OBSERVATIONS} WHERE o.id = ?`, ref.rowId).toArray();
      if (row === undefined) return null;
      const partner = partnerOf(row.metric);
      // A paired blood-pressure row has no id of its own: it is read as `bp-<systolic row>`.
      if (partner !== undefined) {
        const [paired] = sql
          .exec(
            "SELECT 1 FROM observations p JOIN observations o ON p.record_id = o.record_id AND p.start_ms = o.start_ms WHERE o.id = ? AND p.metric = ?",
            ref.rowId,
            partner,
          )
          .toArray();
        if (paired !== undefined) return null;
      }
      return { kind: "sample", observation: toObservation(row) };
    }
    case "blood_pressure": {
      const [row] = sql
        .exec<PairRow>(`${SELECT_PAIRS} WHERE o.id = ? AND o.metric = ?`, ref.systolicRowId, BLOOD_PRESSURE.systolic)
        .toArray();
      return row === undefined ? null : pairItem(row);
    }
    case "sleep": {
      const [row] = sql.exec<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sleep_sessions WHERE id = ?`, ref.sessionId).toArray();
      if (row === undefined) return null;
      return { kind: "sleep", session: toSleepSession(row, stagesOf(sql, [row.id]).get(row.id) ?? []) };
    }
    case "workout": {
      const [row] = sql
        .exec<SessionRow & { exercise_type: string }>(
          `SELECT ${SESSION_COLUMNS}, exercise_type FROM workouts WHERE id = ?`,
          ref.workoutId,
        )
        .toArray();
      return row === undefined ? null : { kind: "workout", workout: { ...toSource(row), exerciseType: row.exercise_type } };
    }
    case "hourly": {
      const end = ref.start + HOUR_MS;
      const aggregate = spanAggregate(sql, ref.metric, ref.start, end);
      if (aggregate === null) return null;
      return {
        kind: "hourly",
        bucket: { metric: ref.metric, start: ref.start, end, ...aggregate, avg: aggregate.sum / aggregate.count },
      };
    }
  }
}

function sees(scope: ParsedFhirScope, metric: string, start: number): boolean {
  if (scope.metrics !== undefined && !scope.metrics.includes(metric)) return false;
  return scope.within === undefined || (start >= scope.within.since && start < scope.within.until);
}

function seesSession(scope: ParsedFhirScope, kind: "sleep" | "workout", start: number, end: number): boolean {
  if (!(kind === "sleep" ? scope.sleep : scope.workouts)) return false;
  return scope.within === undefined || (start >= scope.within.since && end <= scope.within.until);
}

function notFound(): DomainError {
  return new DomainError("NOT_FOUND", "No Observation with this id.");
}

/**
 * The names of the devices and source apps in the data the reader may see, sorted: a person's own
 * list reads the record tables; a grantee's, the records of the metrics their grant covers.
 */
export function listFhirDevices(sql: SqlStorage, scope: ParsedFhirScope): string[] {
  const names = new Set<string>();
  const add = (rows: Iterable<{ source_app: string; device: string | null }>) => {
    for (const row of rows) {
      names.add(row.source_app);
      if (row.device !== null) names.add(row.device);
    }
  };
  const { within } = scope;
  if (scope.metrics === undefined && within === undefined) {
    add(sql.exec<{ source_app: string; device: string | null }>("SELECT DISTINCT source_app, device FROM observation_records"));
  } else {
    for (const metric of scope.metrics ?? storedMetrics(sql)) {
      add(
        sql.exec<{ source_app: string; device: string | null }>(
          `SELECT DISTINCT r.source_app, r.device FROM observations o JOIN observation_records r ON r.id = o.record_id
           WHERE o.metric = ? AND o.start_ms >= ? AND o.start_ms < ?`,
          metric,
          within?.since ?? 0,
          within?.until ?? END_OF_TIME,
        ),
      );
    }
  }
  for (const [table, included] of [
    ["sleep_sessions", scope.sleep],
    ["workouts", scope.workouts],
  ] as const) {
    if (!included) continue;
    add(
      sql.exec<{ source_app: string; device: string | null }>(
        `SELECT DISTINCT source_app, device FROM ${table} WHERE start_ms >= ? AND end_ms <= ?`,
        within?.since ?? 0,
        within?.until ?? END_OF_TIME,
      ),
    );
  }
  return [...names].sort();
}

/** The audited resource of a device list. */
export function fhirDevicesResource(scope: ParsedFhirScope): string {
  return formatAuditResource({ kind: "devices", since: scope.within?.since, until: scope.within?.until });
}
