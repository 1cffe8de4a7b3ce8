import type { MappedObservation } from "../../health-connect/mapped";
import { idField, mapEach, optionalObservation, providerSource, workout } from "../mapping/build";
import { asRecord, listIn, optionalRecord, optionalString, readNumber, reject } from "../mapping/fields";
import { parseDay, parseTimestamp, startOfDayUtc } from "../mapping/time";
import type { MappingContext, ProviderBatch, ProviderMapping } from "../mapping/types";

/**
 * Polar AccessLink v3 → HealthStore inputs.
 * Reference: https://www.polar.com/accesslink-api/ (Exercises: `GET /v3/exercises`; Nightly
 * Recharge: `GET /v3/users/nightly-recharge`).
 *
 * - An exercise's `start_time` is the local wall clock without offset; `start_time_utc_offset` is
 *   the offset in minutes: the instant is wall clock − offset. `duration` is ISO 8601 (`PT1H2M3.5S`).
 * - `calories` is the energy expended during the exercise (kcal, `total_energy`); `distance` is
 *   metres; `heart_rate.average` is bpm. Exercises are not revised (version 0).
 * - Nightly Recharge `heart_rate_variability_avg` is RMSSD in ms over the 4 hours starting 30 min
 *   after falling asleep (Polar: "average variation in the time between successive heart beats");
 *   `heart_rate_avg` and `breathing_rate_avg` cover the same window. The result names only its
 *   `date`, so it is placed on that day with no offset.
 */
export const POLAR = "polar";
const DAY_MS = 86_400_000;

/** Polar `sport` values → Health Connect exercise symbols. */
const SPORTS: Record<string, string> = {
  RUNNING: "RUNNING",
  TREADMILL_RUNNING: "RUNNING_TREADMILL",
  TRAIL_RUNNING: "RUNNING",
  CYCLING: "BIKING",
  ROAD_BIKING: "BIKING",
  MOUNTAIN_BIKING: "BIKING",
  INDOOR_CYCLING: "BIKING_STATIONARY",
  WALKING: "WALKING",
  HIKING: "HIKING",
  SWIMMING: "SWIMMING_POOL",
  OPEN_WATER_SWIMMING: "SWIMMING_OPEN_WATER",
  POOL_SWIMMING: "SWIMMING_POOL",
  ROWING: "ROWING",
  INDOOR_ROWING: "ROWING_MACHINE",
  STRENGTH_TRAINING: "STRENGTH_TRAINING",
  YOGA: "YOGA",
  PILATES: "PILATES",
  CROSS_COUNTRY_SKIING: "SKIING",
  DOWNHILL_SKIING: "SKIING",
};

const DURATION = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/;

/** ISO 8601 time durations as Polar writes them, to milliseconds. */
export function durationMs(value: unknown, path: string): number {
  const match = typeof value === "string" && value !== "PT" ? DURATION.exec(value) : null;
  if (match === null) reject(`${path} is not an ISO 8601 duration`);
  const [, hours = "0", minutes = "0", seconds = "0"] = match;
  return Math.round((Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000);
}

export function mapPolarExercises(payload: unknown, _context: MappingContext): ProviderBatch {
  const list = Array.isArray(payload) ? payload : listIn(payload, "exercises");
  return mapEach(list, "exercises", idField("exercise", "id"), (raw) => {
    const exercise = asRecord(raw, "exercise");
    const source = providerSource(POLAR, "exercise", exercise.id, 0, optionalString(exercise, "device"));
    const wall = parseTimestamp(exercise.start_time, "start_time");
    const offsetMinutes = readNumber(exercise, "start_time_utc_offset");
    if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) > 18 * 60)
      reject("start_time_utc_offset is not minutes east of UTC");
    // A start_time written with an offset already is an instant; without one it is the wall clock.
    const start = wall.offsetSeconds === null ? wall.ms - offsetMinutes * 60_000 : wall.ms;
    const at = {
      start,
      end: start + durationMs(exercise.duration, "duration"),
      zoneOffsetSeconds: offsetMinutes * 60,
      localDate: wall.wallDate,
    };
    const observations: MappedObservation[] = [];
    optionalObservation(observations, source, "total_energy", exercise.calories, "kcal", at, "calories");
    optionalObservation(observations, source, "distance", exercise.distance, "m", at, "distance");
    const heart = optionalRecord(exercise, "heart_rate");
    optionalObservation(observations, source, "heart_rate", heart?.average, "bpm", at, "heart_rate.average");
    const sport = optionalString(exercise, "sport") ?? "";
    return {
      workouts: [workout(source, at, SPORTS[sport] ?? "OTHER_WORKOUT", optionalString(exercise, "detailed_sport_info"))],
      observations,
    };
  });
}

export function mapPolarNightlyRecharge(payload: unknown, _context: MappingContext): ProviderBatch {
  return mapEach(listIn(payload, "recharges"), "recharges", idField("nightly_recharge", "date"), (raw) => {
    const night = asRecord(raw, "recharge");
    const date = parseDay(night.date, "date");
    const source = providerSource(POLAR, "nightly_recharge", date, 0);
    const at = { start: startOfDayUtc(date), end: startOfDayUtc(date) + DAY_MS - 1, zoneOffsetSeconds: null, localDate: date };
    const observations: MappedObservation[] = [];
    optionalObservation(
      observations,
      source,
      "hrv_rmssd",
      night.heart_rate_variability_avg,
      "ms",
      at,
      "heart_rate_variability_avg",
    );
    optionalObservation(observations, source, "heart_rate", night.heart_rate_avg, "bpm", at, "heart_rate_avg");
    optionalObservation(
      observations,
      source,
      "respiratory_rate",
      night.breathing_rate_avg,
      "breaths/min",
      at,
      "breathing_rate_avg",
    );
    return { observations };
  });
}

/** The mappings by the data type the sync driver fetches. */
export const POLAR_MAPPINGS = {
  exercises: mapPolarExercises,
  nightly_recharge: mapPolarNightlyRecharge,
} as const satisfies Record<string, ProviderMapping>;
