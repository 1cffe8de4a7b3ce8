import type { MappedObservation } from "../../health-connect/mapped";
import {
  idField,
  mapEach,
  observation,
  optionalObservation,
  providerSource,
  type StageSpan,
  sleepSession,
  workout,
} from "../mapping/build";
import { asRecord, listIn, optionalString, readArray, readNumber, reject } from "../mapping/fields";
import { mapHeartRateSamples } from "../mapping/samples";
import { parseDay, parseTimestamp } from "../mapping/time";
import type { MappingContext, ProviderBatch, ProviderMapping } from "../mapping/types";

/**
 * Sandbox provider (`GET /v1/data/{type}`, tools/sandbox-provider/data.ts, documented in
 * docs/providers.md "The sandbox provider") → HealthStore inputs.
 *
 * - Heart-rate samples are UTC instants (like Oura's): dated in `context.timeZone` when known.
 *   Every other record writes the person's local offset in its timestamps.
 * - The sandbox never revises a record (its data is a pure function of user and time): version 0,
 *   so a re-sync is all duplicates.
 * - `hrv.rmssd_ms` is RMSSD in milliseconds → `hrv_rmssd`; glucose is mg/dL (the unit is on each
 *   reading and converted if it ever says mmol/L).
 * - Workouts carry their energy (kcal) and distance (m) as observations; their average heart rate
 *   is not stored (the per-minute samples already cover the workout).
 */
export const SANDBOX = "sandbox";

export const SANDBOX_DATA_TYPES = ["heart_rate", "hrv", "sleep", "steps", "glucose", "workouts"] as const;
export type SandboxDataType = (typeof SANDBOX_DATA_TYPES)[number];

/** `heart_rate`: `{timestamp, bpm}`, one per minute. */
export function mapSandboxHeartRate(payload: unknown, context: MappingContext): ProviderBatch {
  return mapHeartRateSamples(SANDBOX, "heart_rate", payload, context);
}

/** `hrv`: `{id, day, start, end, rmssd_ms}`, one per night, on the day the night ends. */
export function mapSandboxHrv(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("hrv"), (raw) => {
    const doc = asRecord(raw, "night");
    const source = providerSource(SANDBOX, "hrv", doc.id, 0);
    const start = parseTimestamp(doc.start, "start");
    const end = parseTimestamp(doc.end, "end");
    const at = { start: start.ms, end: end.ms, zoneOffsetSeconds: end.offsetSeconds, localDate: parseDay(doc.day, "day") };
    return { observations: [observation(source, "hrv_rmssd", readNumber(doc, "rmssd_ms"), "ms", at, "rmssd_ms")] };
  });
}

const STAGES: Record<string, StageSpan["stage"]> = { awake: "awake", light: "light", deep: "deep", rem: "rem" };

/** `sleep`: `{id, day, start, end, stages: [{stage, start, end}]}`. */
export function mapSandboxSleep(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("sleep"), (raw) => {
    const doc = asRecord(raw, "session");
    const source = providerSource(SANDBOX, "sleep", doc.id, 0);
    const start = parseTimestamp(doc.start, "start");
    const end = parseTimestamp(doc.end, "end");
    const at = { start: start.ms, end: end.ms, zoneOffsetSeconds: end.offsetSeconds, localDate: parseDay(doc.day, "day") };
    const stages = readArray(doc, "stages").map((item, index): StageSpan => {
      const span = asRecord(item, `stages[${index}]`);
      const stage = STAGES[optionalString(span, "stage") ?? ""];
      if (stage === undefined) reject(`stages[${index}].stage is not a known stage`);
      const from = parseTimestamp(span.start, `stages[${index}].start`);
      const to = parseTimestamp(span.end, `stages[${index}].end`);
      return { stage, start: from.ms, end: to.ms };
    });
    return { sleepSessions: [sleepSession(source, at, stages)] };
  });
}

/** `steps`: `{id, start, end, steps}` per 15 minutes. */
export function mapSandboxSteps(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("steps"), (raw) => {
    const doc = asRecord(raw, "interval");
    const source = providerSource(SANDBOX, "steps", doc.id, 0);
    const start = parseTimestamp(doc.start, "start");
    const end = parseTimestamp(doc.end, "end");
    const at = { start: start.ms, end: end.ms, zoneOffsetSeconds: start.offsetSeconds };
    return { observations: [observation(source, "steps", readNumber(doc, "steps"), "count", at, "steps")] };
  });
}

/** `glucose`: `{id, timestamp, value, unit}` every 5 minutes. */
export function mapSandboxGlucose(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("glucose"), (raw) => {
    const reading = asRecord(raw, "reading");
    const source = providerSource(SANDBOX, "glucose", reading.id, 0);
    const time = parseTimestamp(reading.timestamp, "timestamp");
    const unit = optionalString(reading, "unit") ?? "mg/dL";
    const at = { start: time.ms, end: time.ms, zoneOffsetSeconds: time.offsetSeconds };
    return { observations: [observation(source, "blood_glucose", readNumber(reading, "value"), unit, at, "value")] };
  });
}

const ACTIVITIES: Record<string, string> = {
  running: "RUNNING",
  cycling: "BIKING",
  walking: "WALKING",
  strength_training: "STRENGTH_TRAINING",
};

/** `workouts`: `{id, activity, start, end, calories_kcal, distance_m, average_heart_rate}`. */
export function mapSandboxWorkouts(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("workout"), (raw) => {
    const doc = asRecord(raw, "workout");
    const source = providerSource(SANDBOX, "workout", doc.id, 0);
    const start = parseTimestamp(doc.start, "start");
    const end = parseTimestamp(doc.end, "end");
    const at = { start: start.ms, end: end.ms, zoneOffsetSeconds: start.offsetSeconds };
    const observations: MappedObservation[] = [];
    optionalObservation(observations, source, "active_energy", doc.calories_kcal, "kcal", at, "calories_kcal");
    optionalObservation(observations, source, "distance", doc.distance_m, "m", at, "distance_m");
    const activity = optionalString(doc, "activity") ?? "";
    return { workouts: [workout(source, at, ACTIVITIES[activity] ?? "OTHER_WORKOUT", null)], observations };
  });
}

/** The mappings by the data type the driver fetches. */
export const SANDBOX_MAPPINGS = {
  heart_rate: mapSandboxHeartRate,
  hrv: mapSandboxHrv,
  sleep: mapSandboxSleep,
  steps: mapSandboxSteps,
  glucose: mapSandboxGlucose,
  workouts: mapSandboxWorkouts,
} as const satisfies Record<SandboxDataType, ProviderMapping>;
