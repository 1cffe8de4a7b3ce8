import { type MetricCategory, metricCategory, SESSIONS } from "../../src/observations/metrics";
import { spanAggregate } from "./aggregate";
import type { Aggregate, DailySummary, ParsedDailySummaryQuery } from "./read-schema";
import { SLEEP_STAGES, type SleepStage } from "./session-schema";
import { sleepEndingBetween } from "./sessions-read";
import { utcOfLocal } from "./zone";

/**
 * One local day at a glance, computed in SQL over the day's [local midnight, next local midnight):
 * the aggregates of the metrics a day view shows, glucose time in range, the sleep that ended that
 * day (last night, and any nap), and the workouts that started in it. Flagged values and sessions
 * (implausible, DESIGN §6) are listed elsewhere but never summed here.
 */
const DAY_MS = 86_400_000;
export const SUMMARY_METRICS = [
  "steps",
  "active_energy",
  "total_energy",
  "heart_rate",
  "resting_heart_rate",
  "hrv_rmssd",
  "hrv_sdnn",
  "blood_glucose",
] as const;
/** mg/dL, inclusive: the international consensus CGM target range (Battelino et al., Diabetes Care 2019). */
export const GLUCOSE_TARGET = { low: 70, high: 180 } as const;

export function dailySummary(sql: SqlStorage, query: ParsedDailySummaryQuery): DailySummary {
  const localMidnight = Date.parse(`${query.date}T00:00:00Z`);
  const start = utcOfLocal(query.zone, localMidnight);
  const end = utcOfLocal(query.zone, localMidnight + DAY_MS);
  // A reader limited to a period (a grant's) sees the part of the day inside it, and only sessions
  // lying wholly inside it; the day's bounds in the answer stay the whole day asked for.
  const within = query.within;
  const from = within === undefined ? start : Math.max(start, within.since);
  const to = within === undefined ? end : Math.max(from, Math.min(end, within.until));
  const sessionsFrom = within?.since ?? 0;
  const sessionsUntil = within?.until ?? Number.MAX_SAFE_INTEGER;
  const reads = (category: MetricCategory) => query.categories === undefined || query.categories.includes(category);

  const metrics: Record<string, Aggregate> = {};
  for (const metric of SUMMARY_METRICS) {
    if (!reads(metricCategory(metric)) || from >= to) continue;
    const aggregate = spanAggregate(sql, metric, from, to);
    if (aggregate !== null) metrics[metric] = aggregate;
  }
  const glucoseInRange =
    metrics.blood_glucose === undefined
      ? 0
      : sql
          .exec<{ n: number }>(
            `SELECT COUNT(*) AS n FROM observations WHERE metric = 'blood_glucose' AND start_ms >= ? AND start_ms < ?
               AND flagged = 0 AND value BETWEEN ? AND ?`,
            from,
            to,
            GLUCOSE_TARGET.low,
            GLUCOSE_TARGET.high,
          )
          .one().n;

  const byStage: Partial<Record<SleepStage, number>> = {};
  const sleep = { sessions: 0, inBedMs: 0, asleepMs: 0, byStage };
  const sleepSessions = reads(SESSIONS.sleep.category) && from < to ? sleepEndingBetween(sql, from, to, sessionsFrom) : [];
  for (const session of sleepSessions) {
    if (session.flagged) continue;
    sleep.sessions += 1;
    sleep.inBedMs += session.totals.inBedMs;
    sleep.asleepMs += session.totals.asleepMs;
    for (const stage of SLEEP_STAGES) {
      const ms = session.totals.byStage[stage];
      if (ms !== undefined) byStage[stage] = (byStage[stage] ?? 0) + ms;
    }
  }
  const workouts =
    reads(SESSIONS.workout.category) && from < to
      ? sql
          .exec<{ count: number; durationMs: number }>(
            `SELECT COUNT(*) AS count, COALESCE(SUM(end_ms - start_ms), 0) AS durationMs FROM workouts
             WHERE start_ms >= ? AND start_ms < ? AND end_ms <= ? AND flagged = 0`,
            from,
            to,
            sessionsUntil,
          )
          .one()
      : { count: 0, durationMs: 0 };
  return { date: query.date, start, end, metrics, glucoseInRange, sleep, workouts };
}
