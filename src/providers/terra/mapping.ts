import type { MappedObservation } from "../../health-connect/mapped";
import type { MetricCode } from "../../observations/metrics";
import {
  mapEach,
  observation,
  optionalObservation,
  type Placement,
  type ProviderSource,
  providerSource,
  type RecordOutput,
  type StageSpan,
  sleepSession,
  workout,
} from "../mapping/build";
import { asRecord, type DecodedRecord, listIn, optionalRecord, optionalString, readArray, reject } from "../mapping/fields";
import { parseTimestamp } from "../mapping/time";
import { emptyBatch, type MappingContext, type ProviderBatch, type ProviderMapping } from "../mapping/types";

/**
 * Terra's normalized data models (`body`, `daily`, `sleep`, `activity`), as its webhooks and
 * `GET /v2/<type>` deliver them: `{type, user: {user_id, provider}, data: [ … ]}`.
 * Reference: https://docs.tryterra.co/reference/health-and-fitness-api/data-models (and
 * https://docs.tryterra.co/docs/data-models).
 *
 * - Each item covers `metadata.start_time`..`end_time` (ISO 8601 with the wearer's offset). Items
 *   have no id: an item is keyed by its type, the underlying provider and `summary_id` when given,
 *   else its start time. Terra re-sends an item as the day goes on, so items are versioned by fetch.
 * - Heart-rate samples are `{timestamp, bpm}`. HRV comes as two different series that stay two
 *   metrics: `hrv_samples_rmssd` (`hrv_rmssd`, ms) → `hrv_rmssd`, `hrv_samples_sdnn` (`hrv_sdnn`,
 *   ms) → `hrv_sdnn`; likewise the summaries `avg_hrv_rmssd` and `avg_hrv_sdnn`.
 * - Units are in the field names: `_meters`, `_bpm`, `_kg`, `_percentage`, `_celsius`,
 *   `_mg_per_dL`; calories are kcal (`total_burned_calories` total, `net_activity_calories` active).
 * - Sleep `hypnogram_samples` give a start each; a stage lasts until the next sample, the last one
 *   until `end_time`. Levels: 0 unknown, 1 awake, 2 sleeping, 3 out of bed, 4 light, 5 deep, 6 REM.
 */
export const TERRA = "terra";
export type TerraDataType = "body" | "daily" | "sleep" | "activity";

interface Item {
  source: ProviderSource;
  span: Placement;
  doc: DecodedRecord;
}

function mapItems(
  type: TerraDataType,
  payload: unknown,
  context: MappingContext,
  mapOne: (item: Item) => RecordOutput,
): ProviderBatch {
  if (typeof payload === "object" && payload !== null && "type" in payload && (payload as DecodedRecord).type !== type) {
    const batch = emptyBatch();
    batch.rejected.push({ sourceRecordId: null, reason: `payload type is not ${type}` });
    return batch;
  }
  const user = typeof payload === "object" && payload !== null ? (payload as DecodedRecord).user : undefined;
  const provider = typeof user === "object" && user !== null ? (user as DecodedRecord).provider : undefined;
  const providerName = typeof provider === "string" && provider.length > 0 ? provider : "UNKNOWN";
  return mapEach(
    listIn(payload, "data"),
    "data",
    (raw) => {
      const metadata = typeof raw === "object" && raw !== null ? (raw as DecodedRecord).metadata : undefined;
      if (typeof metadata !== "object" || metadata === null) return null;
      const key = (metadata as DecodedRecord).summary_id ?? (metadata as DecodedRecord).start_time;
      return typeof key === "string" ? `${type}:${providerName}:${key}` : null;
    },
    (raw) => {
      const doc = asRecord(raw, "item");
      const metadata = asRecord(doc.metadata, "metadata");
      const start = parseTimestamp(metadata.start_time, "metadata.start_time");
      const end = parseTimestamp(metadata.end_time, "metadata.end_time");
      const key = optionalString(metadata, "summary_id") ?? String(metadata.start_time);
      const device = optionalString(optionalRecord(doc, "device_data") ?? {}, "name");
      const source = providerSource(TERRA, type, `${providerName}:${key}`, context.fetchedAt, device);
      return mapOne({ source, span: { start: start.ms, end: end.ms, zoneOffsetSeconds: start.offsetSeconds }, doc });
    },
  );
}

/** A sample series: one observation per `{timestamp, <field>}`, in the sample's own offset. */
function samples(
  into: MappedObservation[],
  item: Item,
  list: unknown,
  path: string,
  field: string,
  metric: MetricCode,
  unit: string,
) {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) reject(`${path} is not a list`);
  list.forEach((raw, i) => {
    const sample = asRecord(raw, `${path}[${i}]`);
    const time = parseTimestamp(sample.timestamp, `${path}[${i}].timestamp`);
    const at = { start: time.ms, end: time.ms, zoneOffsetSeconds: time.offsetSeconds ?? item.span.zoneOffsetSeconds };
    const value = sample[field];
    if (typeof value !== "number") reject(`${path}[${i}].${field} is not a number`);
    into.push(observation(item.source, metric, value, unit, at, `${path}[${i}].${field}`));
  });
}

/** `heart_rate_data`: HR samples and the two HRV kinds, kept apart. */
function heartRate(into: MappedObservation[], item: Item, heart: DecodedRecord | null, path: string) {
  if (heart === null) return;
  const detailed = optionalRecord(heart, "detailed") ?? {};
  samples(into, item, detailed.hr_samples, `${path}.detailed.hr_samples`, "bpm", "heart_rate", "bpm");
  samples(into, item, detailed.hrv_samples_rmssd, `${path}.detailed.hrv_samples_rmssd`, "hrv_rmssd", "hrv_rmssd", "ms");
  samples(into, item, detailed.hrv_samples_sdnn, `${path}.detailed.hrv_samples_sdnn`, "hrv_sdnn", "hrv_sdnn", "ms");
  const summary = optionalRecord(heart, "summary") ?? {};
  const at = item.span;
  optionalObservation(
    into,
    item.source,
    "resting_heart_rate",
    summary.resting_hr_bpm,
    "bpm",
    at,
    `${path}.summary.resting_hr_bpm`,
  );
  // Averages only when there are no samples of that kind, so a day is not counted twice.
  if (!Array.isArray(detailed.hrv_samples_rmssd) || detailed.hrv_samples_rmssd.length === 0) {
    optionalObservation(into, item.source, "hrv_rmssd", summary.avg_hrv_rmssd, "ms", at, `${path}.summary.avg_hrv_rmssd`);
  }
  if (!Array.isArray(detailed.hrv_samples_sdnn) || detailed.hrv_samples_sdnn.length === 0) {
    optionalObservation(into, item.source, "hrv_sdnn", summary.avg_hrv_sdnn, "ms", at, `${path}.summary.avg_hrv_sdnn`);
  }
}

export function mapTerraBody(payload: unknown, context: MappingContext): ProviderBatch {
  return mapItems("body", payload, context, (item) => {
    const observations: MappedObservation[] = [];
    const heart = optionalRecord(item.doc, "heart_data");
    heartRate(observations, item, heart === null ? null : optionalRecord(heart, "heart_rate_data"), "heart_data.heart_rate_data");
    const pressure = optionalRecord(item.doc, "blood_pressure_data");
    readArray(pressure ?? {}, "blood_pressure_samples").forEach((raw, i) => {
      const path = `blood_pressure_data.blood_pressure_samples[${i}]`;
      const sample = asRecord(raw, path);
      const time = parseTimestamp(sample.timestamp, `${path}.timestamp`);
      const at = { start: time.ms, end: time.ms, zoneOffsetSeconds: time.offsetSeconds ?? item.span.zoneOffsetSeconds };
      optionalObservation(
        observations,
        item.source,
        "blood_pressure_systolic",
        sample.systolic_bp,
        "mmHg",
        at,
        `${path}.systolic_bp`,
      );
      optionalObservation(
        observations,
        item.source,
        "blood_pressure_diastolic",
        sample.diastolic_bp,
        "mmHg",
        at,
        `${path}.diastolic_bp`,
      );
    });
    const glucose = optionalRecord(item.doc, "glucose_data") ?? {};
    samples(
      observations,
      item,
      glucose.blood_glucose_samples,
      "glucose_data.blood_glucose_samples",
      "blood_glucose_mg_per_dL",
      "blood_glucose",
      "mg/dL",
    );
    const oxygen = optionalRecord(item.doc, "oxygen_data") ?? {};
    samples(
      observations,
      item,
      oxygen.saturation_samples,
      "oxygen_data.saturation_samples",
      "percentage",
      "oxygen_saturation",
      "%",
    );
    const temperature = optionalRecord(item.doc, "temperature_data") ?? {};
    samples(
      observations,
      item,
      temperature.body_temperature_samples,
      "temperature_data.body_temperature_samples",
      "temperature_celsius",
      "body_temperature",
      "°C",
    );
    const measurements = optionalRecord(item.doc, "measurements_data") ?? {};
    readArray(measurements, "measurements").forEach((raw, i) => {
      const path = `measurements_data.measurements[${i}]`;
      const sample = asRecord(raw, path);
      const time = parseTimestamp(sample.measurement_time, `${path}.measurement_time`);
      const at = { start: time.ms, end: time.ms, zoneOffsetSeconds: time.offsetSeconds ?? item.span.zoneOffsetSeconds };
      optionalObservation(observations, item.source, "weight", sample.weight_kg, "kg", at, `${path}.weight_kg`);
      optionalObservation(
        observations,
        item.source,
        "body_fat",
        sample.bodyfat_percentage,
        "%",
        at,
        `${path}.bodyfat_percentage`,
      );
    });
    return { observations };
  });
}

export function mapTerraDaily(payload: unknown, context: MappingContext): ProviderBatch {
  return mapItems("daily", payload, context, (item) => {
    const observations: MappedObservation[] = [];
    const at = item.span;
    const distance = optionalRecord(item.doc, "distance_data") ?? {};
    optionalObservation(observations, item.source, "steps", distance.steps, "count", at, "distance_data.steps");
    optionalObservation(
      observations,
      item.source,
      "distance",
      distance.distance_meters,
      "m",
      at,
      "distance_data.distance_meters",
    );
    optionalObservation(
      observations,
      item.source,
      "floors",
      distance.floors_climbed,
      "count",
      at,
      "distance_data.floors_climbed",
    );
    const calories = optionalRecord(item.doc, "calories_data") ?? {};
    optionalObservation(
      observations,
      item.source,
      "total_energy",
      calories.total_burned_calories,
      "kcal",
      at,
      "calories_data.total_burned_calories",
    );
    optionalObservation(
      observations,
      item.source,
      "active_energy",
      calories.net_activity_calories,
      "kcal",
      at,
      "calories_data.net_activity_calories",
    );
    heartRate(observations, item, optionalRecord(item.doc, "heart_rate_data"), "heart_rate_data");
    return { observations };
  });
}

const LEVELS: readonly StageSpan["stage"][] = ["unknown", "awake", "sleeping", "out_of_bed", "light", "deep", "rem"];

export function mapTerraSleep(payload: unknown, context: MappingContext): ProviderBatch {
  return mapItems("sleep", payload, context, (item) => {
    const durations = optionalRecord(item.doc, "sleep_durations_data") ?? {};
    const hypnogram = readArray(durations, "hypnogram_samples").map((raw, i) => {
      const sample = asRecord(raw, `hypnogram_samples[${i}]`);
      const level = sample.level;
      const stage = typeof level === "number" ? LEVELS[level] : undefined;
      return {
        start: parseTimestamp(sample.timestamp, `hypnogram_samples[${i}].timestamp`).ms,
        stage: stage ?? "unknown",
      };
    });
    const stages: StageSpan[] = hypnogram.map((sample, i) => ({
      stage: sample.stage,
      start: sample.start,
      end: Math.max(sample.start, hypnogram[i + 1]?.start ?? item.span.end),
    }));
    const end = parseTimestamp(asRecord(item.doc.metadata, "metadata").end_time, "metadata.end_time");
    const night = { ...item.span, zoneOffsetSeconds: end.offsetSeconds ?? item.span.zoneOffsetSeconds };
    const observations: MappedObservation[] = [];
    heartRate(observations, item, optionalRecord(item.doc, "heart_rate_data"), "heart_rate_data");
    const nap = asRecord(item.doc.metadata, "metadata").is_nap === true;
    return { sleepSessions: [sleepSession(item.source, night, stages, nap ? "nap" : null)], observations };
  });
}

/** Terra `ActivityType` integers (Google Fit's list) → Health Connect exercise symbols, the common ones. */
const ACTIVITY_TYPES: ReadonlyMap<number, string> = new Map([
  [1, "BIKING"],
  [7, "WALKING"],
  [8, "RUNNING"],
  [35, "HIKING"],
  [82, "SWIMMING_POOL"],
  [100, "YOGA"],
]);

export function mapTerraActivity(payload: unknown, context: MappingContext): ProviderBatch {
  return mapItems("activity", payload, context, (item) => {
    const metadata = asRecord(item.doc.metadata, "metadata");
    const type = metadata.type;
    const symbol = typeof type === "number" ? (ACTIVITY_TYPES.get(type) ?? "OTHER_WORKOUT") : "OTHER_WORKOUT";
    const observations: MappedObservation[] = [];
    const at = item.span;
    const distance = optionalRecord(optionalRecord(item.doc, "distance_data") ?? {}, "summary") ?? {};
    optionalObservation(
      observations,
      item.source,
      "distance",
      distance.distance_meters,
      "m",
      at,
      "distance_data.summary.distance_meters",
    );
    optionalObservation(observations, item.source, "steps", distance.steps, "count", at, "distance_data.summary.steps");
    const calories = optionalRecord(item.doc, "calories_data") ?? {};
    optionalObservation(
      observations,
      item.source,
      "total_energy",
      calories.total_burned_calories,
      "kcal",
      at,
      "calories_data.total_burned_calories",
    );
    heartRate(observations, item, optionalRecord(item.doc, "heart_rate_data"), "heart_rate_data");
    return { workouts: [workout(item.source, at, symbol, optionalString(metadata, "name"))], observations };
  });
}

/** The mappings by the data type the sync driver fetches. */
export const TERRA_MAPPINGS = {
  body: mapTerraBody,
  daily: mapTerraDaily,
  sleep: mapTerraSleep,
  activity: mapTerraActivity,
} as const satisfies Record<string, ProviderMapping>;
