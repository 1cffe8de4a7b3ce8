import { parseZoneOffset } from "../../health-connect/local-time";
import type { MappedObservation } from "../../health-connect/mapped";
import { idField, mapEach, optionalObservation, providerSource, sleepSession, workout } from "../mapping/build";
import { asRecord, type DecodedRecord, listIn, optionalRecord, optionalString, reject } from "../mapping/fields";
import { checkInstant, parseTimestamp, zoneOffsetAt } from "../mapping/time";
import type { MappingContext, ProviderBatch, ProviderMapping } from "../mapping/types";

/**
 * WHOOP API v2 (`/developer/v2/*`) → HealthStore inputs.
 * Reference: https://developer.whoop.com/api (v2: recovery, activity/sleep, cycle, activity/workout).
 *
 * - Instants are UTC (`start`, `end`); `timezone_offset` (`-05:00`) is the member's offset then.
 * - Every record carries `updated_at`: it is the version, so a re-scored record replaces the old one.
 * - Scores exist only when `score_state` is `SCORED`; a `PENDING_SCORE` or `UNSCORABLE` record has
 *   no values to store (sleeps and workouts are still stored as sessions: their times are known).
 * - Recovery `hrv_rmssd_milli` is RMSSD in milliseconds; `resting_heart_rate` is bpm. A recovery has
 *   no time of its own: it is placed at `created_at` (when WHOOP scored it, after waking).
 * - Energy is `kilojoule` (kJ) and is stored as kcal (÷ 4.184): a cycle's total expenditure
 *   (`total_energy`), a workout's as well.
 * - Sleep v2 gives stage totals (`stage_summary`), not a timeline: a WHOOP night has no stages.
 */
export const WHOOP = "whoop";

function scoreOf(record: DecodedRecord): DecodedRecord | null {
  return record.score_state === "SCORED" ? optionalRecord(record, "score") : null;
}

function versionOf(record: DecodedRecord): number {
  return parseTimestamp(record.updated_at, "updated_at").ms;
}

function offsetOf(record: DecodedRecord): number | null {
  const offset = optionalString(record, "timezone_offset");
  if (offset === null) return null;
  const seconds = parseZoneOffset(offset);
  if (seconds === null) reject("timezone_offset is not a UTC offset");
  return seconds;
}

/** `GET /developer/v2/recovery` → resting heart rate, HRV (RMSSD) and SpO2. */
export function mapWhoopRecovery(payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "records"), "records", idField("recovery", "cycle_id"), (raw) => {
    const record = asRecord(raw, "record");
    const source = providerSource(WHOOP, "recovery", record.cycle_id, versionOf(record));
    const at = parseTimestamp(record.created_at, "created_at").ms;
    const place = { start: at, end: at, zoneOffsetSeconds: zoneOffsetAt(context.timeZone, at) };
    const score = scoreOf(record);
    const observations: MappedObservation[] = [];
    if (score === null) return { observations };
    optionalObservation(
      observations,
      source,
      "resting_heart_rate",
      score.resting_heart_rate,
      "bpm",
      place,
      "score.resting_heart_rate",
    );
    optionalObservation(observations, source, "hrv_rmssd", score.hrv_rmssd_milli, "ms", place, "score.hrv_rmssd_milli");
    optionalObservation(observations, source, "oxygen_saturation", score.spo2_percentage, "%", place, "score.spo2_percentage");
    return { observations };
  });
}

/** `GET /developer/v2/activity/sleep` → sleep sessions (naps titled `nap`), and respiratory rate. */
export function mapWhoopSleep(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "records"), "records", idField("sleep"), (raw) => {
    const record = asRecord(raw, "record");
    const source = providerSource(WHOOP, "sleep", record.id, versionOf(record));
    const at = {
      start: parseTimestamp(record.start, "start").ms,
      end: parseTimestamp(record.end, "end").ms,
      zoneOffsetSeconds: offsetOf(record),
    };
    const observations: MappedObservation[] = [];
    const score = scoreOf(record);
    optionalObservation(
      observations,
      source,
      "respiratory_rate",
      score?.respiratory_rate,
      "breaths/min",
      at,
      "score.respiratory_rate",
    );
    return { sleepSessions: [sleepSession(source, at, [], record.nap === true ? "nap" : null)], observations };
  });
}

/**
 * `GET /developer/v2/cycle` → the cycle's total energy (kJ → kcal) and average heart rate. A cycle
 * still running has `end: null`; it is mapped up to the fetch, and the next fetch replaces it.
 */
export function mapWhoopCycles(payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "records"), "records", idField("cycle"), (raw) => {
    const record = asRecord(raw, "record");
    const start = parseTimestamp(record.start, "start").ms;
    const open = record.end === null || record.end === undefined;
    const end = open ? Math.max(start, checkInstant(context.fetchedAt, "fetchedAt")) : parseTimestamp(record.end, "end").ms;
    // An open cycle keeps growing without a new `updated_at`: the fetch time orders its versions.
    const version = open ? Math.max(versionOf(record), context.fetchedAt) : versionOf(record);
    const source = providerSource(WHOOP, "cycle", record.id, version);
    const at = { start, end, zoneOffsetSeconds: offsetOf(record) };
    const score = scoreOf(record);
    const observations: MappedObservation[] = [];
    optionalObservation(observations, source, "total_energy", score?.kilojoule, "kJ", at, "score.kilojoule");
    optionalObservation(observations, source, "heart_rate", score?.average_heart_rate, "bpm", at, "score.average_heart_rate");
    return { observations };
  });
}

/** WHOOP `sport_name` values → Health Connect exercise symbols. */
const SPORTS: Record<string, string> = {
  running: "RUNNING",
  cycling: "BIKING",
  "mountain biking": "BIKING",
  spin: "BIKING_STATIONARY",
  walking: "WALKING",
  hiking: "HIKING",
  swimming: "SWIMMING_POOL",
  rowing: "ROWING",
  yoga: "YOGA",
  pilates: "PILATES",
  weightlifting: "WEIGHTLIFTING",
  "functional fitness": "STRENGTH_TRAINING",
  hiit: "HIGH_INTENSITY_INTERVAL_TRAINING",
  boxing: "BOXING",
  tennis: "TENNIS",
  soccer: "SOCCER",
  basketball: "BASKETBALL",
  golf: "GOLF",
  skiing: "SKIING",
  snowboarding: "SNOWBOARDING",
  elliptical: "ELLIPTICAL",
  stairmaster: "STAIR_CLIMBING_MACHINE",
};

/** `GET /developer/v2/activity/workout` → workouts, with energy, distance, climb and average HR. */
export function mapWhoopWorkouts(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "records"), "records", idField("workout"), (raw) => {
    const record = asRecord(raw, "record");
    const source = providerSource(WHOOP, "workout", record.id, versionOf(record));
    const at = {
      start: parseTimestamp(record.start, "start").ms,
      end: parseTimestamp(record.end, "end").ms,
      zoneOffsetSeconds: offsetOf(record),
    };
    const sport = optionalString(record, "sport_name");
    const score = scoreOf(record);
    const observations: MappedObservation[] = [];
    optionalObservation(observations, source, "total_energy", score?.kilojoule, "kJ", at, "score.kilojoule");
    optionalObservation(observations, source, "distance", score?.distance_meter, "m", at, "score.distance_meter");
    optionalObservation(
      observations,
      source,
      "elevation_gained",
      score?.altitude_gain_meter,
      "m",
      at,
      "score.altitude_gain_meter",
    );
    optionalObservation(observations, source, "heart_rate", score?.average_heart_rate, "bpm", at, "score.average_heart_rate");
    const symbol = sport === null ? "OTHER_WORKOUT" : (SPORTS[sport.toLowerCase()] ?? "OTHER_WORKOUT");
    return { workouts: [workout(source, at, symbol, sport)], observations };
  });
}

/** The mappings by the data type the sync driver fetches. */
export const WHOOP_MAPPINGS = {
  recovery: mapWhoopRecovery,
  sleep: mapWhoopSleep,
  cycle: mapWhoopCycles,
  workout: mapWhoopWorkouts,
} as const satisfies Record<string, ProviderMapping>;
