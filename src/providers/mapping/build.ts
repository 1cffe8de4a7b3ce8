import { RecordRejection, reject, truncate } from "../../health-connect/fields";
import type { MappedObservation, MappedSleepSession, MappedWorkout, RejectedRecord } from "../../health-connect/mapped";
import { exerciseTypeOf } from "../../health-connect/vocabularies";
import { isPlausible, isPlausibleDuration, METRICS, type MetricCode } from "../../observations/metrics";
import { converterTo } from "../../observations/units";
import { localDateOf } from "./time";
import { emptyBatch, type ProviderBatch } from "./types";

/**
 * Building HealthStore inputs from provider records. The rules are Health Connect's (src/health-
 * connect/README.md): values converted to the metric's canonical unit, out-of-range values kept
 * and flagged, a record mapped whole or rejected whole, reasons that name fields and never values.
 */
const MAX_KEY = 256;

/** One provider record: every observation and session made from it shares this identity. */
export interface ProviderSource {
  /** The provider name (`oura`, `whoop`, …). */
  sourceApp: string;
  /** Stable across re-syncs, prefixed by the provider's data type so ids of two types never clash. */
  sourceRecordId: string;
  /** Higher replaces lower (DESIGN §5); 0 for data the provider never revises. */
  version: number;
  device: string | null;
}

export function providerSource(
  sourceApp: string,
  kind: string,
  id: unknown,
  version: number,
  device: string | null = null,
): ProviderSource {
  if ((typeof id !== "string" || id.length === 0) && (typeof id !== "number" || !Number.isSafeInteger(id))) {
    reject(`${kind} id is missing`);
  }
  const sourceRecordId = `${kind}:${id}`;
  if (sourceRecordId.length > MAX_KEY) reject(`${kind} id is longer than ${MAX_KEY - kind.length - 1} characters`);
  if (!Number.isSafeInteger(version) || version < 0) reject(`${kind} version is not a non-negative integer`);
  return { sourceApp, sourceRecordId, version, device: device === null ? null : truncate(device, MAX_KEY) };
}

/** Where an observation sits in time: an instant (`end === start`) or an interval. */
export interface Placement {
  start: number;
  end: number;
  zoneOffsetSeconds: number | null;
  /** As the provider reports it when it does (`day`), else the local date of `start`. */
  localDate?: string;
}

/**
 * One observation in the metric's canonical unit. `unit` is the unit the provider documents for
 * the field; a unit Pulse cannot convert from rejects the record rather than store a wrong value.
 */
export function observation(
  source: ProviderSource,
  metric: MetricCode,
  raw: number,
  unit: string,
  at: Placement,
  field: string,
): MappedObservation {
  if (typeof raw !== "number" || !Number.isFinite(raw)) reject(`${field} is not a finite number`);
  const convert = converterTo(metric, unit);
  if (convert === null) reject(`${field} cannot be converted from ${unit}`);
  const value = convert(raw);
  if (!Number.isFinite(value)) reject(`${field} is out of range once converted`);
  if (at.end < at.start) reject(`${field} ends before it starts`);
  return {
    metric,
    start: at.start,
    end: at.end,
    value,
    unit: METRICS[metric].unit,
    sourceKind: "provider",
    sourceApp: source.sourceApp,
    device: source.device,
    sourceRecordId: source.sourceRecordId,
    zoneOffsetSeconds: at.zoneOffsetSeconds,
    localDate: at.localDate ?? localDateOf(at.start, at.zoneOffsetSeconds),
    flagged: !isPlausible(metric, value),
    version: source.version,
  };
}

/** Appends an observation when the provider sent the field (absent or null fields are not values). */
export function optionalObservation(
  into: MappedObservation[],
  source: ProviderSource,
  metric: MetricCode,
  raw: unknown,
  unit: string,
  at: Placement,
  field: string,
): void {
  if (raw === null || raw === undefined) return;
  if (typeof raw !== "number") reject(`${field} is not a number`);
  into.push(observation(source, metric, raw, unit, at, field));
}

const MAX_STAGES = 2_000;

export interface StageSpan {
  stage: MappedSleepSession["stages"][number]["stage"];
  start: number;
  end: number;
}

/** A night belongs to the morning it ends unless the provider names its day. */
export function sleepSession(
  source: ProviderSource,
  at: Placement,
  stages: readonly StageSpan[],
  title: string | null = null,
): MappedSleepSession {
  if (at.end < at.start) reject("sleep ends before it starts");
  if (stages.length > MAX_STAGES) reject(`sleep has more than ${MAX_STAGES} stages`);
  if (stages.some((s) => s.end < s.start)) reject("a sleep stage ends before it starts");
  const stray = stages.some((s) => s.start < at.start || s.end > at.end);
  return {
    sourceKind: "provider",
    sourceApp: source.sourceApp,
    sourceRecordId: source.sourceRecordId,
    version: source.version,
    start: at.start,
    end: at.end,
    zoneOffsetSeconds: at.zoneOffsetSeconds,
    localDate: at.localDate ?? localDateOf(at.end, at.zoneOffsetSeconds),
    title,
    notes: null,
    device: source.device,
    flagged: stray || !isPlausibleDuration("sleep", at.end - at.start),
    stages: [...stages],
  };
}

/** A workout belongs to the day it starts. `exerciseSymbol` is a Health Connect exercise symbol. */
export function workout(source: ProviderSource, at: Placement, exerciseSymbol: string, title: string | null): MappedWorkout {
  if (at.end < at.start) reject("workout ends before it starts");
  return {
    sourceKind: "provider",
    sourceApp: source.sourceApp,
    sourceRecordId: source.sourceRecordId,
    version: source.version,
    start: at.start,
    end: at.end,
    zoneOffsetSeconds: at.zoneOffsetSeconds,
    localDate: at.localDate ?? localDateOf(at.start, at.zoneOffsetSeconds),
    title: title === null || title.trim().length === 0 ? null : truncate(title.trim(), 500),
    notes: null,
    device: source.device,
    flagged: !isPlausibleDuration("workout", at.end - at.start),
    exerciseType: exerciseTypeOf(exerciseSymbol),
  };
}

/** What one provider record maps to; appended to the batch only once the whole record has mapped. */
export interface RecordOutput {
  observations?: MappedObservation[];
  sleepSessions?: MappedSleepSession[];
  workouts?: MappedWorkout[];
}

/**
 * Maps each record of a provider list; a record that cannot be mapped lands in `rejected` with
 * its id (when readable) and reason, and the others still map. Only `RecordRejection`s are caught:
 * anything else is a bug and is thrown.
 */
export function mapEach(
  records: unknown,
  listName: string,
  idOf: (record: unknown) => string | null,
  mapOne: (record: unknown, index: number) => RecordOutput,
  into: ProviderBatch = emptyBatch(),
): ProviderBatch {
  if (!Array.isArray(records)) {
    into.rejected.push({ sourceRecordId: null, reason: `${listName} is not a list` });
    return into;
  }
  records.forEach((record, index) => {
    try {
      const out = mapOne(record, index);
      for (const item of out.observations ?? []) into.observations.push(item);
      for (const item of out.sleepSessions ?? []) into.sleepSessions.push(item);
      for (const item of out.workouts ?? []) into.workouts.push(item);
    } catch (error) {
      if (!(error instanceof RecordRejection)) throw error;
      const rejected: RejectedRecord = {
        sourceRecordId: safeId(idOf, record),
        reason: `${listName}[${index}]: ${error.message}`,
      };
      into.rejected.push(rejected);
    }
  });
  return into;
}

function safeId(idOf: (record: unknown) => string | null, record: unknown): string | null {
  try {
    const id = idOf(record);
    return id === null ? null : truncate(id, MAX_KEY);
  } catch {
    return null;
  }
}

/** `record.id` (string or integer) prefixed by kind, for rejection reports. */
export function idField(kind: string, field = "id"): (record: unknown) => string | null {
  return (record) => {
    if (typeof record !== "object" || record === null) return null;
    const id = (record as Record<string, unknown>)[field];
    return typeof id === "string" || typeof id === "number" ? `${kind}:${id}` : null;
  };
}
