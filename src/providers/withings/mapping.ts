import type { MappedObservation } from "../../health-connect/mapped";
import type { MetricCode } from "../../observations/metrics";
import { idField, mapEach, observation, optionalObservation, providerSource, sleepSession } from "../mapping/build";
import { asRecord, type DecodedRecord, listIn, optionalString, readArray, readNumber, reject } from "../mapping/fields";
import { parseDay, secondsToMs, zoneOffsetAt } from "../mapping/time";
import { emptyBatch, type MappingContext, type ProviderBatch, type ProviderMapping } from "../mapping/types";

/**
 * Withings `measure` `action=getmeas` and `v2/sleep` `action=getsummary` → HealthStore inputs.
 * Reference: https://developer.withings.com/api-reference (Measure - Getmeas, Sleep v2 - Getsummary)
 * and https://developer.withings.com/llms.md.
 *
 * - Every response is `{status, body}`; a `status` other than 0 is an error and maps nothing.
 * - A measure is `value × 10^unit` (`{value: 72345, unit: -3}` is 72.345): the exponent is applied
 *   by division so decimal values stay exact.
 * - `meastype` codes (Withings' list): 1 weight (kg), 4 height (m), 5 fat-free mass (kg),
 *   6 fat ratio (%), 9 diastolic and 10 systolic blood pressure (mmHg), 11 heart pulse (bpm),
 *   12 temperature (°C), 54 SpO2 (%), 71 body temperature (°C), 77 hydration (kg of body water),
 *   88 bone mass (kg). Other types (fat mass, muscle mass, pulse wave velocity, …) have no metric
 *   in Pulse's registry and are not mapped.
 * - Only `category` 1 groups are measurements; category 2 is the person's goals.
 * - Times are epoch seconds; the zone is the IANA `timezone` Withings reports (on the response,
 *   or on the sleep series item), resolved to the offset at that instant.
 * - A group's `grpid` is stable and `modified` grows with each edit: it is the version.
 */
export const WITHINGS = "withings";

const MEASTYPES: ReadonlyMap<number, { metric: MetricCode; unit: string }> = new Map([
  [1, { metric: "weight", unit: "kg" }],
  [4, { metric: "height", unit: "m" }],
  [5, { metric: "lean_body_mass", unit: "kg" }],
  [6, { metric: "body_fat", unit: "%" }],
  [9, { metric: "blood_pressure_diastolic", unit: "mmHg" }],
  [10, { metric: "blood_pressure_systolic", unit: "mmHg" }],
  [11, { metric: "heart_rate", unit: "bpm" }],
  [12, { metric: "body_temperature", unit: "°C" }],
  [54, { metric: "oxygen_saturation", unit: "%" }],
  [71, { metric: "body_temperature", unit: "°C" }],
  [77, { metric: "body_water_mass", unit: "kg" }],
  [88, { metric: "bone_mass", unit: "kg" }],
]);

/** Withings wraps every answer in `{status, body}`; anything but status 0 carries no data. */
function bodyOf(payload: unknown): DecodedRecord | null {
  if (typeof payload !== "object" || payload === null) return null;
  const { status, body } = payload as DecodedRecord;
  return status === 0 && typeof body === "object" && body !== null ? (body as DecodedRecord) : null;
}

function failed(payload: unknown): ProviderBatch {
  const status = typeof payload === "object" && payload !== null ? (payload as DecodedRecord).status : undefined;
  const batch = emptyBatch();
  batch.rejected.push({
    sourceRecordId: null,
    reason: `response status is ${typeof status === "number" ? status : "missing"}, not 0`,
  });
  return batch;
}

/** `value × 10^unit`, exact for the decimal the scale displayed. */
export function measureValue(value: number, unit: number): number {
  return unit < 0 ? value / 10 ** -unit : value * 10 ** unit;
}

export function mapWithingsMeasures(payload: unknown, _context: MappingContext): ProviderBatch {
  const body = bodyOf(payload);
  if (body === null) return failed(payload);
  const responseZone = optionalString(body, "timezone");
  return mapEach(listIn(body, "measuregrps"), "measuregrps", idField("measuregrp", "grpid"), (raw) => {
    const group = asRecord(raw, "measuregrp");
    if (group.category !== 1) return {};
    const modified = secondsToMs(group.modified ?? group.date, "modified");
    const source = providerSource(WITHINGS, "measuregrp", group.grpid, modified);
    const at = secondsToMs(group.date, "date");
    const zoneOffsetSeconds = zoneOffsetAt(optionalString(group, "timezone") ?? responseZone, at);
    const place = { start: at, end: at, zoneOffsetSeconds };
    const observations: MappedObservation[] = [];
    readArray(group, "measures").forEach((entry, i) => {
      const measure = asRecord(entry, `measures[${i}]`);
      const type = MEASTYPES.get(readNumber(measure, "type", `measures[${i}].type`));
      if (type === undefined) return;
      const exponent = readNumber(measure, "unit", `measures[${i}].unit`);
      if (!Number.isInteger(exponent) || Math.abs(exponent) > 20) reject(`measures[${i}].unit is not a power of ten`);
      const value = measureValue(readNumber(measure, "value", `measures[${i}].value`), exponent);
      observations.push(observation(source, type.metric, value, type.unit, place, `measures[${i}].value`));
    });
    return { observations };
  });
}

/**
 * `v2/sleep getsummary` → a sleep session per night (a summary has no stage timeline) with the
 * night's average heart and respiratory rates. `date` is Withings' own day for the night.
 */
export function mapWithingsSleepSummary(payload: unknown, _context: MappingContext): ProviderBatch {
  const body = bodyOf(payload);
  if (body === null) return failed(payload);
  return mapEach(listIn(body, "series"), "series", idField("sleep"), (raw) => {
    const night = asRecord(raw, "series item");
    const source = providerSource(WITHINGS, "sleep", night.id, secondsToMs(night.modified, "modified"));
    const start = secondsToMs(night.startdate, "startdate");
    const end = secondsToMs(night.enddate, "enddate");
    const zoneOffsetSeconds = zoneOffsetAt(optionalString(night, "timezone"), end);
    const at = { start, end, zoneOffsetSeconds, localDate: parseDay(night.date, "date") };
    const data = night.data === undefined || night.data === null ? {} : asRecord(night.data, "data");
    const observations: MappedObservation[] = [];
    optionalObservation(observations, source, "heart_rate", data.hr_average, "bpm", at, "data.hr_average");
    optionalObservation(observations, source, "respiratory_rate", data.rr_average, "breaths/min", at, "data.rr_average");
    return { sleepSessions: [sleepSession(source, at, [])], observations };
  });
}

/** The mappings by the data type the sync driver fetches. */
export const WITHINGS_MAPPINGS = {
  measure: mapWithingsMeasures,
  sleep_summary: mapWithingsSleepSummary,
} as const satisfies Record<string, ProviderMapping>;
