import { isPlausible, METRICS } from "../observations/metrics";
import { type Convert, converterTo } from "../observations/units";
import {
  asRecord,
  type DecodedRecord,
  MAX_INSTANT_MS,
  readArray,
  readInstant,
  readNumber,
  readOptionalNumber,
  reject,
} from "./fields";
import { localDateOf, parseZoneOffset } from "./local-time";
import type { MappedObservation } from "./mapped";
import type { ValueField } from "./mapping-table";
import type { RecordSource } from "./source";

/**
 * Point, interval and series records → observations. Every value is converted to its metric's
 * canonical unit and flagged when outside the metric's plausibility range: kept, never dropped
 * (DESIGN §6). A record is mapped whole or rejected whole, so a stored record is never partial.
 */
interface Placement {
  start: number;
  end: number;
  zoneOffsetSeconds: number | null;
  localDate: string;
}

/** A value field with its conversion to canonical units resolved once per record. */
interface Target {
  field: ValueField;
  unit: string;
  convert: Convert;
}

function targetOf(field: ValueField): Target {
  const convert = converterTo(field.metric, field.unit);
  if (convert === null) reject(`${field.field} cannot be converted from ${field.unit}`);
  return { field, unit: METRICS[field.metric].unit, convert };
}

function observation(source: RecordSource, target: Target, raw: number, at: Placement, suspect = false): MappedObservation {
  const value = target.convert(raw);
  if (!Number.isFinite(value)) reject(`${target.field.field} is out of range once converted`);
  return {
    metric: target.field.metric,
    start: at.start,
    end: at.end,
    value,
    unit: target.unit,
    sourceKind: source.sourceKind,
    sourceApp: source.sourceApp,
    device: source.device,
    sourceRecordId: source.sourceRecordId,
    zoneOffsetSeconds: at.zoneOffsetSeconds,
    localDate: at.localDate,
    flagged: suspect || !isPlausible(target.field.metric, value),
    version: source.version,
  };
}

/** `timeEpochMillis` + `zoneOffsetId`. */
export function mapPoint(record: DecodedRecord, source: RecordSource, fields: readonly ValueField[]): MappedObservation[] {
  const time = readInstant(record, "timeEpochMillis");
  const zoneOffsetSeconds = parseZoneOffset(record.zoneOffsetId);
  const at = { start: time, end: time, zoneOffsetSeconds, localDate: localDateOf(time, zoneOffsetSeconds) };
  return fields.map((field) => observation(source, targetOf(field), readNumber(record, field.field), at));
}

interface Span {
  start: number;
  end: number;
  /** The start's offset, else the end's: the day a record belongs to is the day it began. */
  zoneOffsetSeconds: number | null;
}

export function readSpan(record: DecodedRecord): Span {
  const start = readInstant(record, "startTimeEpochMillis");
  const end = readInstant(record, "endTimeEpochMillis");
  if (end < start) reject("endTimeEpochMillis is before startTimeEpochMillis");
  const zoneOffsetSeconds = parseZoneOffset(record.startZoneOffsetId) ?? parseZoneOffset(record.endZoneOffsetId);
  return { start, end, zoneOffsetSeconds };
}

/** `startTimeEpochMillis`..`endTimeEpochMillis`; with `nullable`, absent values yield nothing. */
export function mapInterval(
  record: DecodedRecord,
  source: RecordSource,
  fields: readonly ValueField[],
  nullable: boolean,
): MappedObservation[] {
  const span = readSpan(record);
  const at = { ...span, localDate: localDateOf(span.start, span.zoneOffsetSeconds) };
  const observations: MappedObservation[] = [];
  for (const field of fields) {
    const raw = nullable ? readOptionalNumber(record, field.field) : readNumber(record, field.field);
    if (raw !== null) observations.push(observation(source, targetOf(field), raw, at));
  }
  return observations;
}

/**
 * One observation per sample, at the sample's instant, in the record's offset. Health Connect
 * keeps samples inside their record's span; one outside it is kept and flagged.
 */
export function mapSeries(record: DecodedRecord, source: RecordSource, field: ValueField): MappedObservation[] {
  const span = readSpan(record);
  const samples = readArray(record, "samples");
  const target = targetOf(field);
  const observations: MappedObservation[] = [];
  for (let i = 0; i < samples.length; i++) {
    const sample = sampleAt(samples, i);
    const time = sampleInstant(sample, i);
    const raw = sampleValue(sample, field.field, i);
    const at = {
      start: time,
      end: time,
      zoneOffsetSeconds: span.zoneOffsetSeconds,
      localDate: localDateOf(time, span.zoneOffsetSeconds),
    };
    observations.push(observation(source, target, raw, at, time < span.start || time > span.end));
  }
  return observations;
}

// Series run to ~100k samples per upload: check the common case inline, and build the field
// path for the rejection reason only when a sample is actually bad.
function sampleAt(samples: readonly unknown[], i: number): DecodedRecord {
  const sample = samples[i];
  if (typeof sample === "object" && sample !== null && !Array.isArray(sample)) return sample as DecodedRecord;
  return asRecord(sample, `samples[${i}]`);
}

function sampleInstant(sample: DecodedRecord, i: number): number {
  const time = sample.timeEpochMillis;
  if (typeof time === "number" && Number.isInteger(time) && time >= 0 && time <= MAX_INSTANT_MS) return time;
  return readInstant(sample, "timeEpochMillis", `samples[${i}].timeEpochMillis`);
}

function sampleValue(sample: DecodedRecord, field: string, i: number): number {
  const value = sample[field];
  if (typeof value === "number" && Number.isFinite(value)) return value;
  return readNumber(sample, field, `samples[${i}].${field}`);
}
