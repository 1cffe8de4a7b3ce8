import type {
  DailySummary,
  ObservationBucket,
  SleepSession,
  SleepTotals,
  Workout,
} from "../../durable-objects/health-store/read-schema";
import type { Observation } from "../../durable-objects/health-store/schema";
import { GLUCOSE_TARGET } from "../../durable-objects/health-store/summary";
import type { Zone } from "../../durable-objects/health-store/zone";
import { isMetricCode, METRICS, type MetricCode } from "./metrics";
import type { BucketItem, DailySummaryBody, ObservationItem, SleepSessionItem, WorkoutItem } from "./schema";
import { formatInstant, instantFormatter } from "./time-zone";

/**
 * From what the HealthStore answers (epoch milliseconds) to what the API shows: ISO 8601 instants
 * (buckets and summaries in the requested zone, everything else in UTC), seconds for durations,
 * units from the metric registry, and `sum` only where a metric adds up.
 */
const UTC_ISO = (ms: number): string => new Date(ms).toISOString();
const seconds = (ms: number): number => ms / 1000;

export function presentObservation(obs: Observation): ObservationItem {
  return { ...obs, start: UTC_ISO(obs.start), end: UTC_ISO(obs.end) };
}

/** `zone`: the offsets the store bucketed with, which also write the buckets' boundaries. */
export function presentBuckets(buckets: readonly ObservationBucket[], zone: Zone): BucketItem[] {
  const format = instantFormatter(zone);
  return buckets.map((bucket) => {
    const code = isMetricCode(bucket.metric) ? bucket.metric : undefined;
    const item: BucketItem = {
      metric: bucket.metric,
      start: format(bucket.start),
      end: format(bucket.end),
      avg: bucket.avg,
      min: bucket.min,
      max: bucket.max,
      count: bucket.count,
      unit: code === undefined ? "" : METRICS[code].unit,
    };
    if (code !== undefined && METRICS[code].aggregation === "sum") item.sum = bucket.sum;
    return item;
  });
}

export function presentSleepSession(session: SleepSession): SleepSessionItem {
  const { stages, totals, start, end, ...rest } = session;
  return {
    ...rest,
    start: UTC_ISO(start),
    end: UTC_ISO(end),
    stages: stages.map((stage) => ({ stage: stage.stage, start: UTC_ISO(stage.start), end: UTC_ISO(stage.end) })),
    totals: presentTotals(totals),
  };
}

export function presentWorkout(workout: Workout): WorkoutItem {
  return {
    ...workout,
    start: UTC_ISO(workout.start),
    end: UTC_ISO(workout.end),
    durationSeconds: seconds(workout.end - workout.start),
  };
}

export function presentSummary(summary: DailySummary, zone: { name: string; offsets: Zone }): DailySummaryBody {
  const metric = (code: MetricCode) => summary.metrics[code];
  const total = (code: MetricCode) => metric(code)?.sum ?? null;
  const average = (code: MetricCode) => {
    const aggregate = metric(code);
    return aggregate === undefined ? null : aggregate.sum / aggregate.count;
  };
  const stats = (code: MetricCode) => {
    const aggregate = metric(code);
    if (aggregate === undefined) return null;
    return { avg: aggregate.sum / aggregate.count, min: aggregate.min, max: aggregate.max, count: aggregate.count };
  };
  const glucose = stats("blood_glucose");
  return {
    date: summary.date,
    timeZone: zone.name,
    start: formatInstant(zone.offsets, summary.start),
    end: formatInstant(zone.offsets, summary.end),
    steps: total("steps"),
    activeEnergy: total("active_energy"),
    totalEnergy: total("total_energy"),
    heartRate: stats("heart_rate"),
    restingHeartRate: average("resting_heart_rate"),
    hrvRmssd: average("hrv_rmssd"),
    hrvSdnn: average("hrv_sdnn"),
    glucose: glucose === null ? null : { ...glucose, timeInRangePercent: (100 * summary.glucoseInRange) / glucose.count },
    sleep: { sessions: summary.sleep.sessions, ...presentTotals(summary.sleep) },
    workouts: { count: summary.workouts.count, durationSeconds: seconds(summary.workouts.durationMs) },
    units: {
      steps: METRICS.steps.unit,
      activeEnergy: METRICS.active_energy.unit,
      totalEnergy: METRICS.total_energy.unit,
      heartRate: METRICS.heart_rate.unit,
      restingHeartRate: METRICS.resting_heart_rate.unit,
      hrvRmssd: METRICS.hrv_rmssd.unit,
      hrvSdnn: METRICS.hrv_sdnn.unit,
      glucose: METRICS.blood_glucose.unit,
      glucoseTargetRange: `${GLUCOSE_TARGET.low}-${GLUCOSE_TARGET.high} ${METRICS.blood_glucose.unit}`,
      durations: "s",
    },
  };
}

function presentTotals(totals: SleepTotals): SleepSessionItem["totals"] {
  const stages: Record<string, number> = {};
  for (const [stage, ms] of Object.entries(totals.byStage)) stages[stage] = seconds(ms);
  return { inBedSeconds: seconds(totals.inBedMs), asleepSeconds: seconds(totals.asleepMs), stages };
}
