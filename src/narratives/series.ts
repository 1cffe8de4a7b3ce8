/**
 * Single-pass helpers over the time-ordered series of `NarrativeData`. They allocate nothing per
 * sample: a week of minute heart rate is 10,080 samples and the whole narrative has a budget of
 * well under 50 ms of Worker CPU.
 */
import type { LocalDay } from "./types";

export const MINUTE_MS = 60_000;

/**
 * How long one sample stands for when a duration is read from sample spacing: the time to the
 * next sample, but at most this much. A longer gap is missing data, not a long stretch of the
 * last value.
 */
export const MAX_SAMPLE_SPAN_MS = 5 * MINUTE_MS;

/** Samples per local day; `times` ascending. Samples outside every day are not counted. */
export function countPerDay(times: readonly number[], days: readonly LocalDay[]): number[] {
  const counts = new Array<number>(days.length).fill(0);
  let d = 0;
  for (const t of times) {
    while (d < days.length && t >= (days[d]?.end ?? Number.POSITIVE_INFINITY)) d++;
    if (d >= days.length) break;
    if (t >= (days[d]?.start ?? Number.POSITIVE_INFINITY)) counts[d] = (counts[d] ?? 0) + 1;
  }
  return counts;
}

/** The index of the local day holding `t`, or -1. Days are few (1 or 7): a scan is cheapest. */
export function dayIndexOf(t: number, days: readonly LocalDay[]): number {
  return days.findIndex((day) => t >= day.start && t < day.end);
}

export function countNonZero(counts: readonly number[]): number {
  let n = 0;
  for (const c of counts) if (c > 0) n++;
  return n;
}

export interface Stats {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null with fewer than 2 values. */
  sd: number | null;
  min: number;
  max: number;
}

/** Mean, sample SD, min and max in two passes (the second keeps the SD numerically stable). */
export function stats(values: readonly number[]): Stats | null {
  const n = values.length;
  if (n === 0) return null;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  if (n < 2) return { n, mean, sd: null, min, max };
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return { n, mean, sd: Math.sqrt(squares / (n - 1)), min, max };
}

/** Non-overlapping, ascending [start, end) intervals from any list of intervals. */
export function mergeIntervals(intervals: readonly { start: number; end: number }[]): { start: number; end: number }[] {
  const sorted = intervals.map(({ start, end }) => ({ start, end })).sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else merged.push(interval);
  }
  return merged;
}

/**
 * Minutes during which `values` met `test`, read from sample spacing: each sample stands for the
 * time to the next one, at most MAX_SAMPLE_SPAN_MS; the last sample for the gap before it (same
 * cap); a lone sample for none (its value is still reported, e.g. as the lowest). Samples inside
 * one of `excluded` (merged, ascending) are skipped.
 */
export function minutesWhere(
  times: readonly number[],
  values: readonly number[],
  test: (value: number) => boolean,
  excluded: readonly { start: number; end: number }[] = [],
): number {
  let ms = 0;
  let x = 0;
  const n = times.length;
  for (let i = 0; i < n; i++) {
    const t = times[i] ?? 0;
    while (x < excluded.length && t >= (excluded[x]?.end ?? 0)) x++;
    const interval = excluded[x];
    if (interval !== undefined && t >= interval.start) continue;
    if (!test(values[i] ?? 0)) continue;
    const gap = i + 1 < n ? (times[i + 1] ?? t) - t : i > 0 ? t - (times[i - 1] ?? t) : 0;
    ms += Math.min(gap, MAX_SAMPLE_SPAN_MS);
  }
  return ms / MINUTE_MS;
}
