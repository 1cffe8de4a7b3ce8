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
import { asRecord, listIn, optionalRecord, optionalString, readNumber, reject } from "../mapping/fields";
import { mapHeartRateSamples } from "../mapping/samples";
import { parseDay, parseTimestamp, startOfDayUtc } from "../mapping/time";
import type { MappingContext, ProviderBatch, ProviderMapping } from "../mapping/types";

/**
 * Oura API v2 (`/v2/usercollection/*`) → HealthStore inputs.
 * Reference: https://cloud.ouraring.com/v2/docs (OpenAPI https://cloud.ouraring.com/v2/static/json/openapi-1.35.json).
 *
 * - Timestamps carry the ring's local offset (`2026-03-01T23:10:00-05:00`) except heart rate,
 *   whose samples are UTC: those are dated in `context.timeZone` when known, else in UTC.
 * - `day` is Oura's own attribution (a night belongs to the day it ends) and is kept as the local date.
 * - Oura recomputes documents (a day's activity grows until midnight, a night is re-scored after a
 *   late sync) without a modification time: documents are versioned by fetch time, so the latest
 *   fetch replaces the earlier one. Heart-rate samples are never revised (version 0).
 * - Sleep `average_hrv` is RMSSD in ms (Oura: "average heart rate variability", computed as RMSSD);
 *   `sleep_phase_5_min` is one character per 5 minutes from `bedtime_start`: 1 deep, 2 light, 3 REM, 4 awake.
 */
export const OURA = "oura";
const DAY_MS = 86_400_000;
const PHASE_MS = 5 * 60_000;

/** `GET /v2/usercollection/daily_activity` → steps, active and total energy for the day. */
export function mapOuraDailyActivity(payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("daily_activity"), (raw) => {
    const doc = asRecord(raw, "document");
    const source = providerSource(OURA, "daily_activity", doc.id, context.fetchedAt);
    const day = parseDay(doc.day, "day");
    const start = parseTimestamp(doc.timestamp, "timestamp");
    const at = { start: start.ms, end: start.ms + DAY_MS, zoneOffsetSeconds: start.offsetSeconds, localDate: day };
    const observations: MappedObservation[] = [observation(source, "steps", readNumber(doc, "steps"), "count", at, "steps")];
    optionalObservation(observations, source, "active_energy", doc.active_calories, "kcal", at, "active_calories");
    optionalObservation(observations, source, "total_energy", doc.total_calories, "kcal", at, "total_calories");
    return { observations };
  });
}

/** `GET /v2/usercollection/heartrate` → one `heart_rate` observation per sample. */
export function mapOuraHeartRate(payload: unknown, context: MappingContext): ProviderBatch {
  return mapHeartRateSamples(OURA, "heartrate", payload, context);
}

const PHASES: Record<string, StageSpan["stage"]> = { "1": "deep", "2": "light", "3": "rem", "4": "awake" };

/** `GET /v2/usercollection/sleep` → sleep sessions with stages, plus the night's average HR and HRV. */
export function mapOuraSleep(payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("sleep"), (raw) => {
    const doc = asRecord(raw, "document");
    const source = providerSource(OURA, "sleep", doc.id, context.fetchedAt);
    const start = parseTimestamp(doc.bedtime_start, "bedtime_start");
    const end = parseTimestamp(doc.bedtime_end, "bedtime_end");
    const at = { start: start.ms, end: end.ms, zoneOffsetSeconds: end.offsetSeconds, localDate: parseDay(doc.day, "day") };
    const stages = phaseStages(optionalString(doc, "sleep_phase_5_min"), start.ms, end.ms);
    const title = doc.type === "long_sleep" || doc.type === undefined ? null : optionalString(doc, "type");
    const observations: MappedObservation[] = [];
    optionalObservation(observations, source, "heart_rate", doc.average_heart_rate, "bpm", at, "average_heart_rate");
    optionalObservation(observations, source, "hrv_rmssd", doc.average_hrv, "ms", at, "average_hrv");
    return { sleepSessions: [sleepSession(source, at, stages, title)], observations };
  });
}

/** Run-length encodes the 5-minute hypnogram; the last stage ends at bedtime end. */
function phaseStages(phases: string | null, start: number, end: number): StageSpan[] {
  if (phases === null) return [];
  const stages: StageSpan[] = [];
  for (let i = 0; i < phases.length; i++) {
    const stage = PHASES[phases.charAt(i)];
    if (stage === undefined) reject(`sleep_phase_5_min has an unknown phase at ${i}`);
    const from = start + i * PHASE_MS;
    const to = Math.min(from + PHASE_MS, Math.max(end, from));
    const last = stages.at(-1);
    if (last !== undefined && last.stage === stage && last.end === from) last.end = to;
    else stages.push({ stage, start: from, end: to });
  }
  return stages;
}

/** `GET /v2/usercollection/daily_spo2` → the night's average SpO2, on its day (no time is given). */
export function mapOuraDailySpo2(payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("daily_spo2"), (raw) => {
    const doc = asRecord(raw, "document");
    const source = providerSource(OURA, "daily_spo2", doc.id, context.fetchedAt);
    const day = parseDay(doc.day, "day");
    const average = optionalRecord(doc, "spo2_percentage")?.average;
    const at = { start: startOfDayUtc(day), end: startOfDayUtc(day) + DAY_MS - 1, zoneOffsetSeconds: null, localDate: day };
    const observations: MappedObservation[] = [];
    // A day without a reading (ring off at night) has `spo2_percentage: null`: nothing to store.
    optionalObservation(observations, source, "oxygen_saturation", average, "%", at, "spo2_percentage.average");
    return { observations };
  });
}

/** Oura `activity` names (lower snake case) → Health Connect exercise symbols. */
const ACTIVITIES: Record<string, string> = {
  walking: "WALKING",
  running: "RUNNING",
  cycling: "BIKING",
  swimming: "SWIMMING_OPEN_WATER",
  hiking: "HIKING",
  yoga: "YOGA",
  strength_training: "STRENGTH_TRAINING",
  weightlifting: "WEIGHTLIFTING",
  rowing: "ROWING",
  elliptical: "ELLIPTICAL",
  dancing: "DANCING",
  pilates: "PILATES",
  tennis: "TENNIS",
  golf: "GOLF",
  skiing: "SKIING",
};

/** `GET /v2/usercollection/workout` → workouts, with their energy (kcal) and distance (m). */
export function mapOuraWorkouts(payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "data"), "data", idField("workout"), (raw) => {
    const doc = asRecord(raw, "document");
    const source = providerSource(OURA, "workout", doc.id, context.fetchedAt);
    const start = parseTimestamp(doc.start_datetime, "start_datetime");
    const end = parseTimestamp(doc.end_datetime, "end_datetime");
    const at = { start: start.ms, end: end.ms, zoneOffsetSeconds: start.offsetSeconds, localDate: parseDay(doc.day, "day") };
    const activity = optionalString(doc, "activity") ?? "";
    const observations: MappedObservation[] = [];
    optionalObservation(observations, source, "active_energy", doc.calories, "kcal", at, "calories");
    optionalObservation(observations, source, "distance", doc.distance, "m", at, "distance");
    return {
      workouts: [workout(source, at, ACTIVITIES[activity] ?? "OTHER_WORKOUT", optionalString(doc, "label"))],
      observations,
    };
  });
}

/** The mappings by the data type the sync driver fetches. */
export const OURA_MAPPINGS = {
  daily_activity: mapOuraDailyActivity,
  heartrate: mapOuraHeartRate,
  sleep: mapOuraSleep,
  daily_spo2: mapOuraDailySpo2,
  workout: mapOuraWorkouts,
} as const satisfies Record<string, ProviderMapping>;
