import type { StageSpan } from "../mapping/build";
import { mapEach, observation, providerSource, sleepSession } from "../mapping/build";
import { asRecord, type DecodedRecord, listIn, numberOrNumericString, readArray, reject } from "../mapping/fields";
import { parseTimestamp } from "../mapping/time";
import type { MappingContext, ProviderBatch, ProviderMapping } from "../mapping/types";

/**
 * Google Health API v4 (the Fitbit Web API's successor) `users.dataTypes.dataPoints.list` →
 * HealthStore inputs, for the `heart-rate`, `steps` and `sleep` data types.
 * Reference: https://developers.google.com/health/reference/rest/v4/users.dataTypes.dataPoints
 * and https://developers.google.com/health/data-types/sleep.
 *
 * - A DataPoint is `{name, dataSource, <one of heartRate | steps | sleep | …>}`; `name` is
 *   `users/{user}/dataTypes/{type}/dataPoints/{id}` and its last segment is the stable id. Other
 *   data types in the list are not mapped here.
 * - Proto3 JSON: int64 values (`beatsPerMinute`, `count`) arrive as strings, timestamps as RFC 3339
 *   UTC, offsets as durations (`"-18000s"`, seconds east of UTC).
 * - A heart-rate sample is `sampleTime {physicalTime, utcOffset}`; steps cover
 *   `interval {startTime, startUtcOffset, endTime, endUtcOffset}`; sleep has an `interval` and
 *   `stages [{startTime, endTime, type}]` (AWAKE, LIGHT, DEEP, REM for "stages" sleep; AWAKE,
 *   RESTLESS, ASLEEP for "classic" sleep).
 * - Sleep carries `updateTime` (else `createTime`): it is the version. Samples and step intervals
 *   are not revised in place (version 0).
 */
export const GOOGLE_HEALTH = "google_health";

const DURATION = /^(-?\d+)(?:\.\d{1,9})?s$/;

/** A proto3 JSON duration (`"3600s"`) as whole seconds. */
export function durationSeconds(value: unknown, path: string): number {
  const match = typeof value === "string" ? DURATION.exec(value) : null;
  if (match === null) reject(`${path} is not a duration`);
  const seconds = Number(match[1]);
  if (Math.abs(seconds) > 18 * 3600) reject(`${path} is not a UTC offset`);
  return seconds;
}

const STAGES: Readonly<Record<string, StageSpan["stage"]>> = {
  AWAKE: "awake",
  LIGHT: "light",
  DEEP: "deep",
  REM: "rem",
  ASLEEP: "sleeping",
  // Fitbit's classic "restless" is neither clearly asleep nor awake; Pulse has no such stage.
  RESTLESS: "unknown",
};

function idOf(point: DecodedRecord): string {
  const name = point.name;
  if (typeof name !== "string") reject("name is missing");
  const match = /^users\/[^/]+\/dataTypes\/([^/]+)\/dataPoints\/([^/]+)$/.exec(name);
  if (match === null) reject("name is not a data point name");
  return `${match[1]}/${match[2]}`;
}

export function mapGoogleHealthDataPoints(payload: unknown, context: MappingContext): ProviderBatch {
  return mapEach(
    // Proto3 JSON leaves out an empty repeated field: a page without data points has no `dataPoints`.
    typeof payload === "object" && payload !== null && !("dataPoints" in payload) ? [] : listIn(payload, "dataPoints"),
    "dataPoints",
    (raw) =>
      typeof raw === "object" && raw !== null && typeof (raw as DecodedRecord).name === "string"
        ? String((raw as DecodedRecord).name)
        : null,
    (raw) => {
      const point = asRecord(raw, "dataPoint");
      if (point.heartRate !== undefined) return heartRate(point);
      if (point.steps !== undefined) return steps(point);
      if (point.sleep !== undefined) return sleep(point, context);
      return {};
    },
  );
}

function heartRate(point: DecodedRecord) {
  const heart = asRecord(point.heartRate, "heartRate");
  const time = asRecord(heart.sampleTime, "heartRate.sampleTime");
  const at = parseTimestamp(time.physicalTime, "heartRate.sampleTime.physicalTime").ms;
  const zoneOffsetSeconds = durationSeconds(time.utcOffset, "heartRate.sampleTime.utcOffset");
  const source = providerSource(GOOGLE_HEALTH, "dataPoint", idOf(point), 0);
  const bpm = numberOrNumericString(heart.beatsPerMinute, "heartRate.beatsPerMinute");
  return {
    observations: [
      observation(source, "heart_rate", bpm, "bpm", { start: at, end: at, zoneOffsetSeconds }, "heartRate.beatsPerMinute"),
    ],
  };
}

function interval(value: unknown, path: string) {
  const span = asRecord(value, path);
  return {
    start: parseTimestamp(span.startTime, `${path}.startTime`).ms,
    end: parseTimestamp(span.endTime, `${path}.endTime`).ms,
    startOffset: durationSeconds(span.startUtcOffset, `${path}.startUtcOffset`),
    endOffset: durationSeconds(span.endUtcOffset, `${path}.endUtcOffset`),
  };
}

function steps(point: DecodedRecord) {
  const data = asRecord(point.steps, "steps");
  const span = interval(data.interval, "steps.interval");
  const source = providerSource(GOOGLE_HEALTH, "dataPoint", idOf(point), 0);
  const count = numberOrNumericString(data.count, "steps.count");
  const at = { start: span.start, end: span.end, zoneOffsetSeconds: span.startOffset };
  return { observations: [observation(source, "steps", count, "count", at, "steps.count")] };
}

function sleep(point: DecodedRecord, context: MappingContext) {
  const data = asRecord(point.sleep, "sleep");
  const span = interval(data.interval, "sleep.interval");
  const revised = data.updateTime ?? data.createTime;
  const version = revised === undefined ? context.fetchedAt : parseTimestamp(revised, "sleep.updateTime").ms;
  const source = providerSource(GOOGLE_HEALTH, "dataPoint", idOf(point), version);
  const stages = readArray(data, "stages").map((raw, i) => {
    const stage = asRecord(raw, `sleep.stages[${i}]`);
    return {
      stage: (typeof stage.type === "string" ? STAGES[stage.type] : undefined) ?? "unknown",
      start: parseTimestamp(stage.startTime, `sleep.stages[${i}].startTime`).ms,
      end: parseTimestamp(stage.endTime, `sleep.stages[${i}].endTime`).ms,
    };
  });
  return {
    sleepSessions: [sleepSession(source, { start: span.start, end: span.end, zoneOffsetSeconds: span.endOffset }, stages)],
  };
}

/** The mappings by the data type the sync driver fetches. */
export const GOOGLE_HEALTH_MAPPINGS = { data_points: mapGoogleHealthDataPoints } as const satisfies Record<
  string,
  ProviderMapping
>;
