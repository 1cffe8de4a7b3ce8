import type {
  IntervalSeries,
  LocalDay,
  NarrativeData,
  NarrativePeriod,
  NarrativeSleep,
  NarrativeWorkout,
  Series,
} from "../../src/narratives/types";
import { type MetricCategory, type MetricCode, metricCategory, SESSIONS } from "../../src/observations/metrics";
import type { Period } from "./read-schema";
import { sleepEndingBetween } from "./sessions-read";
import { offsetMsAt, utcOfLocal, type Zone } from "./zone";

/**
 * Everything one narrative is computed from (src/narratives/types.ts `NarrativeData`), read from
 * SQL in one pass inside the caller's transaction. Unflagged samples only. Every series is a range
 * scan of `observations_metric_start` (metric, start_ms) reading two or three columns, with no
 * JOIN (blood pressure, which must pair two metrics of one record, is the one exception), so a
 * week of minute heart rate and 5-minute CGM reads in a few milliseconds.
 *
 * A reader limited to a period (`within`, a grant's) has nothing read outside it: every range,
 * the HRV baseline and the weight trend included, is cut to it, and sessions must lie wholly in it.
 * A reader limited to `categories` has the series of other categories left empty, never read.
 */
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** RMSSD baseline: the person's own 28 days before the period. */
export const HRV_BASELINE_MS = 28 * DAY_MS;
/** Weight trend: the period and the 30 days before it. */
export const WEIGHT_LOOKBACK_MS = 30 * DAY_MS;
/** Recovery heart rate is the sample nearest this long after a workout's end, within the window below. */
const RECOVERY_AFTER_MS = 2 * MINUTE_MS;
const RECOVERY_WINDOW_MS = MINUTE_MS;

export interface NarrativeDataQuery {
  period: NarrativePeriod;
  /** The first local date (YYYY-MM-DD); a week is 7 local days from it. */
  date: string;
  timeZone: string;
  /** The time zone's offsets over the period (and a day or two either side). */
  zone: Zone;
  days: number;
  within?: Period | undefined;
  categories?: readonly MetricCategory[] | undefined;
  /** When the narrative is computed: data of a period still in progress can only exist before it. */
  now: number;
}

export function localDays(zone: Zone, date: string, days: number): LocalDay[] {
  const first = Date.parse(`${date}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) => {
    const midnight = first + i * DAY_MS;
    return {
      date: new Date(midnight).toISOString().slice(0, 10),
      start: utcOfLocal(zone, midnight),
      end: utcOfLocal(zone, midnight + DAY_MS),
    };
  });
}

export function readNarrativeData(sql: SqlStorage, query: NarrativeDataQuery): NarrativeData {
  const days = localDays(query.zone, query.date, query.days);
  const start = days[0]?.start ?? 0;
  const end = days.at(-1)?.end ?? start;
  const within = query.within ?? { since: 0, until: Number.MAX_SAFE_INTEGER };
  const reads = (category: MetricCategory) => query.categories === undefined || query.categories.includes(category);
  /** [from, to) cut to the reader's period. */
  const cut = (from: number, to: number) => {
    const since = Math.max(from, within.since, 0);
    return { since, until: Math.max(since, Math.min(to, within.until)) };
  };
  const period = cut(start, end);
  const observable = { since: Math.max(start, period.since), until: Math.min(end, period.until, Math.max(start, query.now)) };
  const series = (metric: MetricCode, from = period.since, to = period.until): Series =>
    reads(metricCategory(metric)) ? readSeries(sql, metric, from, to) : { times: [], values: [] };
  const intervals = (metric: MetricCode): IntervalSeries =>
    reads(metricCategory(metric)) ? readIntervals(sql, metric, period.since, period.until) : { starts: [], ends: [], values: [] };
  const baseline = cut(start - HRV_BASELINE_MS, start);
  const weight = cut(start - WEIGHT_LOOKBACK_MS, end);

  return {
    period: query.period,
    date: query.date,
    timeZone: query.timeZone,
    start,
    end,
    days,
    ...(observable.since > start || observable.until < end ? { observable } : {}),
    glucose: series("blood_glucose"),
    heartRate: series("heart_rate"),
    restingHeartRate: series("resting_heart_rate"),
    hrvRmssd: series("hrv_rmssd"),
    hrvRmssdBaseline: series("hrv_rmssd", baseline.since, baseline.until),
    oxygenSaturation: series("oxygen_saturation"),
    respiratoryRate: series("respiratory_rate"),
    bloodPressure: reads(metricCategory("blood_pressure_systolic"))
      ? readBloodPressure(sql, period.since, period.until)
      : { times: [], systolic: [], diastolic: [] },
    weight: series("weight", weight.since, weight.until),
    heightMetres: reads(metricCategory("height")) ? latestHeight(sql, within.since, period.until) : null,
    steps: intervals("steps"),
    activeEnergy: intervals("active_energy"),
    sleep: reads(SESSIONS.sleep.category) ? readSleep(sql, query.zone, period, within) : [],
    workouts: reads(SESSIONS.workout.category) ? readWorkouts(sql, period, within, reads(metricCategory("heart_rate"))) : [],
    ...(reads(SESSIONS.workout.category) ? {} : { workoutsRead: false }),
  };
}

function readSeries(sql: SqlStorage, metric: string, since: number, until: number): Series {
  const times: number[] = [];
  const values: number[] = [];
  if (since >= until) return { times, values };
  const rows = sql.exec<{ t: number; v: number }>(
    `SELECT start_ms AS t, value AS v FROM observations
     WHERE metric = ? AND start_ms >= ? AND start_ms < ? AND flagged = 0 ORDER BY start_ms`,
    metric,
    since,
    until,
  );
  for (const row of rows) {
    times.push(row.t);
    values.push(row.v);
  }
  return { times, values };
}

function readIntervals(sql: SqlStorage, metric: string, since: number, until: number): IntervalSeries {
  const starts: number[] = [];
  const ends: number[] = [];
  const values: number[] = [];
  if (since >= until) return { starts, ends, values };
  const rows = sql.exec<{ s: number; e: number; v: number }>(
    `SELECT start_ms AS s, end_ms AS e, value AS v FROM observations
     WHERE metric = ? AND start_ms >= ? AND start_ms < ? AND flagged = 0 ORDER BY start_ms`,
    metric,
    since,
    until,
  );
  for (const row of rows) {
    starts.push(row.s);
    ends.push(row.e);
    values.push(row.v);
  }
  return { starts, ends, values };
}

/**
 * Systolic and diastolic written by the same source record at the same instant, as a blood
 * pressure reading is: the diastolic is found through the sample key (record_id, metric, start_ms).
 * A reading with either half flagged is left out whole.
 */
function readBloodPressure(sql: SqlStorage, since: number, until: number): NarrativeData["bloodPressure"] {
  const pressure: NarrativeData["bloodPressure"] = { times: [], systolic: [], diastolic: [] };
  if (since >= until) return pressure;
  const rows = sql.exec<{ t: number; s: number; d: number }>(
    `SELECT s.start_ms AS t, s.value AS s, d.value AS d
     FROM observations s JOIN observations d
       ON d.record_id = s.record_id AND d.metric = 'blood_pressure_diastolic' AND d.start_ms = s.start_ms
     WHERE s.metric = 'blood_pressure_systolic' AND s.start_ms >= ? AND s.start_ms < ? AND s.flagged = 0 AND d.flagged = 0
     ORDER BY s.start_ms, s.id`,
    since,
    until,
  );
  for (const row of rows) {
    pressure.times.push(row.t);
    pressure.systolic.push(row.s);
    pressure.diastolic.push(row.d);
  }
  return pressure;
}

function latestHeight(sql: SqlStorage, since: number, until: number): number | null {
  if (since >= until) return null;
  const [row] = sql
    .exec<{ v: number }>(
      `SELECT value AS v FROM observations
       WHERE metric = 'height' AND start_ms >= ? AND start_ms < ? AND flagged = 0 ORDER BY start_ms DESC LIMIT 1`,
      since,
      until,
    )
    .toArray();
  return row?.v ?? null;
}

/** Sleep ending in the period (the night that ended that morning), wholly inside the reader's period. */
function readSleep(sql: SqlStorage, zone: Zone, period: Period, within: Period): NarrativeSleep[] {
  if (period.since >= period.until) return [];
  const localMinutes = (utc: number) => {
    const local = utc + offsetMsAt(zone, utc);
    return (((local % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS;
  };
  return sleepEndingBetween(sql, period.since, period.until, within.since)
    .filter((session) => !session.flagged)
    .map((session) => {
      const stageMinutes: Record<string, number> = {};
      for (const [stage, ms] of Object.entries(session.totals.byStage)) stageMinutes[stage] = ms / MINUTE_MS;
      return {
        start: session.start,
        end: session.end,
        stageMinutes,
        inBedMinutes: session.totals.inBedMs / MINUTE_MS,
        asleepMinutes: session.totals.asleepMs / MINUTE_MS,
        localDate: new Date(session.end + offsetMsAt(zone, session.end)).toISOString().slice(0, 10),
        bedtimeLocalMinutes: localMinutes(session.start),
        wakeLocalMinutes: localMinutes(session.end),
      };
    });
}

/**
 * Workouts starting in the period, wholly inside the reader's period, with the highest heart rate
 * during [start, end] and, for recovery, the sample nearest 2 minutes after the end (within a
 * minute either side), both only from heart rate inside the reader's period.
 */
function readWorkouts(sql: SqlStorage, period: Period, within: Period, readsHeartRate: boolean): NarrativeWorkout[] {
  if (period.since >= period.until) return [];
  const rows = sql
    .exec<{ s: number; e: number; type: string }>(
      `SELECT start_ms AS s, end_ms AS e, exercise_type AS type FROM workouts
       WHERE start_ms >= ? AND start_ms < ? AND end_ms <= ? AND flagged = 0 ORDER BY start_ms, id`,
      period.since,
      period.until,
      within.until,
    )
    .toArray();
  return rows.map((row) => {
    let peakHeartRate: number | null = null;
    let heartRateTwoMinutesAfter: number | null = null;
    if (readsHeartRate) {
      const [peak] = sql
        .exec<{ v: number | null }>(
          `SELECT MAX(value) AS v FROM observations
           WHERE metric = 'heart_rate' AND start_ms >= ? AND start_ms <= ? AND start_ms < ? AND flagged = 0`,
          row.s,
          row.e,
          within.until,
        )
        .toArray();
      peakHeartRate = peak?.v ?? null;
      const target = row.e + RECOVERY_AFTER_MS;
      const [after] = sql
        .exec<{ v: number }>(
          `SELECT value AS v FROM observations
           WHERE metric = 'heart_rate' AND start_ms >= ? AND start_ms <= ? AND start_ms < ? AND flagged = 0
           ORDER BY ABS(start_ms - ?), start_ms LIMIT 1`,
          Math.max(row.e + 1, target - RECOVERY_WINDOW_MS),
          target + RECOVERY_WINDOW_MS,
          within.until,
          target,
        )
        .toArray();
      heartRateTwoMinutesAfter = after?.v ?? null;
    }
    return { start: row.s, end: row.e, exerciseType: row.type, peakHeartRate, heartRateTwoMinutesAfter };
  });
}
