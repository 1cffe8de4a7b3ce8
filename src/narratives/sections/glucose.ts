/**
 * Glucose, read by the international consensus on CGM metrics (Battelino et al., Diabetes Care
 * 2019): mean, GMI (Bergenstal et al., Diabetes Care 2018), CV, the five time-in-ranges as shares
 * of readings, hypoglycaemic events and the ≥ 70 % data-sufficiency rule. A few meter
 * (fingerstick) readings are not a glucose profile: they read as readings, without CGM metrics.
 */

import { metricUnit } from "../../observations/metrics";
import { countNonZero, countPerDay, MINUTE_MS, stats } from "../series";
import type { NarrativeData, NarrativeSection } from "../types";
import { listing, num, percent, plural, SectionFigures } from "../wording";

/** Canonical units of the metric registry. */
const MG_DL = metricUnit("blood_glucose");

/** CGMs report every 1 to 15 minutes; meters far less regularly. */
const CGM_MAX_INTERVAL_MIN = 15;
/** Fewer readings than this are read as meter readings even when they are close together. */
const CGM_MIN_READINGS = 12;
const SUFFICIENT_PERCENT = 70;
const EVENT_MS = 15 * MINUTE_MS;
/** Sensor timestamps jitter by seconds; 3 readings 4:58 apart still make a 15-minute run. */
const JITTER_MS = 30_000;
/** Readings closer than this are the same reading stored twice, not a sensor interval. */
const DUPLICATE_MS = 30_000;

/**
 * The sensor interval in whole minutes (at least 1): the median gap between consecutive readings,
 * so missing stretches do not move it; gaps under 30 s (one reading stored twice) are left out.
 * The lower median for an even count; 0 when there is no gap to read.
 */
export function sensorIntervalMinutes(times: readonly number[]): number {
  const gaps = new Float64Array(Math.max(0, times.length - 1));
  let n = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
    // The same reading twice (two sources of one sensor) is no interval.
    if (gap >= DUPLICATE_MS) gaps[n++] = gap;
  }
  if (n === 0) return 0;
  const sorted = gaps.subarray(0, n).sort();
  const median = sorted[Math.floor((n - 1) / 2)] ?? 0;
  return Math.max(1, Math.round(median / MINUTE_MS));
}

/**
 * Hypoglycaemic events: a run of readings below 70 mg/dL lasting ≥ 15 minutes starts one; it
 * ends after ≥ 15 minutes at ≥ 70. A reading stands for one sensor interval, so a run lasts from
 * its first reading to its last plus one interval (with 1-minute readings, 15 readings = 15 min).
 * Gaps: a gap longer than max(15 min, 2 × the interval) ends any run or event, because 15 minutes
 * unseen could hide its end; a shorter gap is bridged (the values on either side continue).
 */
export function hypoglycaemicEvents(times: readonly number[], values: readonly number[], intervalMinutes: number): number {
  const interval = intervalMinutes * MINUTE_MS;
  const gapLimit = Math.max(EVENT_MS, 2 * interval);
  let events = 0;
  let inEvent = false;
  let belowStart = -1;
  let aboveStart = -1;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] ?? 0;
    if (i > 0 && t - (times[i - 1] ?? 0) > gapLimit) {
      inEvent = false;
      belowStart = -1;
      aboveStart = -1;
    }
    if ((values[i] ?? 0) < 70) {
      aboveStart = -1;
      if (belowStart < 0) belowStart = t;
      if (!inEvent && t - belowStart + interval >= EVENT_MS - JITTER_MS) {
        inEvent = true;
        events++;
      }
    } else if (inEvent) {
      if (aboveStart < 0) aboveStart = t;
      if (t - aboveStart + interval >= EVENT_MS - JITTER_MS) {
        inEvent = false;
        belowStart = -1;
        aboveStart = -1;
      }
    } else {
      belowStart = -1;
    }
  }
  return events;
}

export function glucoseSection(data: NarrativeData): NarrativeSection | null {
  const { times } = data.glucose;
  const n = times.length;
  if (n === 0) return null;
  const perDay = countPerDay(times, data.days);
  const interval = sensorIntervalMinutes(times);
  const isCgm = n >= CGM_MIN_READINGS && interval >= 1 && interval <= CGM_MAX_INTERVAL_MIN;
  return isCgm ? cgmSection(data, interval, countNonZero(perDay)) : meterSection(data, countNonZero(perDay));
}

function meterSection(data: NarrativeData, daysWithData: number): NarrativeSection {
  const { values } = data.glucose;
  const figures = new SectionFigures();
  const s = stats(values);
  let below = 0;
  let above = 0;
  for (const v of values) {
    if (v < 70) below++;
    else if (v > 180) above++;
  }
  const n = figures.add({ code: "readings", label: "Glucose readings", unit: "readings", decimals: 0 }, values.length);
  const mean = figures.add({ code: "mean_glucose", label: "Mean glucose", unit: MG_DL, decimals: 0 }, s?.mean ?? 0);
  const min = figures.add({ code: "min_glucose", label: "Lowest glucose", unit: MG_DL, decimals: 0 }, s?.min ?? 0);
  const max = figures.add({ code: "max_glucose", label: "Highest glucose", unit: MG_DL, decimals: 0 }, s?.max ?? 0);
  const nBelow = figures.add(
    {
      code: "readings_below_70",
      label: "Readings below 70 mg/dL",
      unit: "readings",
      decimals: 0,
      reference: "< 70 mg/dL",
      flag: (v) => (v > 0 ? "attention" : undefined),
    },
    below,
  );
  const nAbove = figures.add(
    { code: "readings_above_180", label: "Readings above 180 mg/dL", unit: "readings", decimals: 0, reference: "> 180 mg/dL" },
    above,
  );
  const sentences = [
    n === 1
      ? `1 glucose reading (no continuous monitoring): ${num(mean)} mg/dL.`
      : `${num(n)} glucose readings (no continuous monitoring, so no CGM metrics): mean ${num(mean)} mg/dL, lowest ${num(min)} mg/dL, highest ${num(max)} mg/dL.`,
    `${num(nBelow)} ${plural(nBelow, "reading")} below 70 mg/dL and ${num(nAbove)} above 180 mg/dL.`,
  ];
  return {
    domain: "glucose",
    title: "Glucose",
    sentences,
    figures: figures.list,
    coverage: { samples: values.length, daysWithData, days: data.days.length, sufficient: true },
  };
}

function cgmSection(data: NarrativeData, interval: number, daysWithData: number): NarrativeSection {
  const { times, values } = data.glucose;
  const n = values.length;
  let sum = 0;
  let inRange = 0;
  let below70 = 0;
  let below54 = 0;
  let above180 = 0;
  let above250 = 0;
  for (const v of values) {
    sum += v;
    if (v < 70) {
      below70++;
      if (v < 54) below54++;
    } else if (v > 180) {
      above180++;
      if (v > 250) above250++;
    } else inRange++;
  }
  const rawMean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - rawMean) * (v - rawMean);
  const rawSd = Math.sqrt(squares / (n - 1));
  const observable = data.observable ?? { since: data.start, until: data.end };
  // Cut at its start: a grant's period; cut only at its end: a period still in progress.
  const partial = observable.since > data.start ? " in the period shared" : observable.until < data.end ? " so far" : "";
  let expectedRaw = 0;
  for (const day of data.days) {
    const span = Math.min(day.end, observable.until) - Math.max(day.start, observable.since);
    if (span > 0) expectedRaw += Math.round(span / (interval * MINUTE_MS));
  }
  const share = (count: number) => (count / n) * 100;

  const figures = new SectionFigures();
  const coverage = figures.add(
    {
      code: "cgm_data_sufficiency",
      label: "CGM readings present, of expected",
      unit: "%",
      decimals: 1,
      reference: "≥ 70 % of expected readings",
      flag: (v) => (v < SUFFICIENT_PERCENT ? "low" : undefined),
    },
    Math.min(100, (n / Math.max(1, expectedRaw)) * 100),
  );
  const readings = figures.add({ code: "readings", label: "CGM readings", unit: "readings", decimals: 0 }, n);
  const expected = figures.add(
    { code: "expected_readings", label: "Expected CGM readings", unit: "readings", decimals: 0 },
    expectedRaw,
  );
  figures.add({ code: "sensor_interval", label: "Sensor interval (median gap)", unit: "min", decimals: 0 }, interval);
  const mean = figures.add({ code: "mean_glucose", label: "Mean glucose", unit: MG_DL, decimals: 0 }, rawMean);
  // From the mean as shown, so a reader can redo the arithmetic.
  const gmi = figures.add(
    {
      code: "gmi",
      label: "Glucose management indicator",
      unit: "%",
      decimals: 1,
      reference: "GMI % = 3.31 + 0.02392 × mean mg/dL",
    },
    3.31 + 0.02392 * mean,
  );
  figures.add({ code: "sd_glucose", label: "Glucose standard deviation", unit: MG_DL, decimals: 0 }, rawSd);
  const cv = figures.add(
    {
      code: "cv",
      label: "Coefficient of variation",
      unit: "%",
      decimals: 1,
      reference: "≤ 36 % (stable glucose)",
      flag: (v) => (v > 36 ? "attention" : undefined),
    },
    (rawSd / rawMean) * 100,
  );
  const tir = figures.add(
    {
      code: "time_in_range",
      label: "Time in range 70–180 mg/dL",
      unit: "%",
      decimals: 1,
      reference: "70–180 mg/dL, target > 70 %",
      flag: (v) => (v > 70 ? undefined : "low"),
    },
    share(inRange),
  );
  const b70 = figures.add(
    {
      code: "time_below_70",
      label: "Time below 70 mg/dL",
      unit: "%",
      decimals: 1,
      reference: "< 70 mg/dL, target < 4 %",
      flag: (v) => (v < 4 ? undefined : "high"),
    },
    share(below70),
  );
  const b54 = figures.add(
    {
      code: "time_below_54",
      label: "Time below 54 mg/dL",
      unit: "%",
      decimals: 1,
      reference: "< 54 mg/dL, target < 1 %",
      flag: (v) => (v < 1 ? undefined : "high"),
    },
    share(below54),
  );
  const a180 = figures.add(
    {
      code: "time_above_180",
      label: "Time above 180 mg/dL",
      unit: "%",
      decimals: 1,
      reference: "> 180 mg/dL, target < 25 %",
      flag: (v) => (v < 25 ? undefined : "high"),
    },
    share(above180),
  );
  const a250 = figures.add(
    {
      code: "time_above_250",
      label: "Time above 250 mg/dL",
      unit: "%",
      decimals: 1,
      reference: "> 250 mg/dL, target < 5 %",
      flag: (v) => (v < 5 ? undefined : "high"),
    },
    share(above250),
  );
  const events = figures.add(
    {
      code: "hypoglycaemic_events",
      label: "Hypoglycaemic events",
      unit: "events",
      decimals: 0,
      reference: "≥ 15 consecutive min below 70 mg/dL",
      flag: (v) => (v > 0 ? "attention" : undefined),
    },
    hypoglycaemicEvents(times, values, interval),
  );

  const sufficient = coverage >= SUFFICIENT_PERCENT;
  const sentences: string[] = [];
  if (!sufficient) {
    sentences.push(
      `Only ${percent(coverage)} of the ${partial ? `CGM readings expected${partial}` : "expected CGM readings"} are present (${num(readings)} of ${num(expected)}), short of the ≥ 70 % the consensus asks for: the figures below are indicative only.`,
    );
  }
  sentences.push(
    `Mean glucose ${num(mean)} mg/dL (GMI ${percent(gmi)}), coefficient of variation ${percent(cv)}${cv > 36 ? ", above the 36 % threshold for stable glucose" : ""}, from ${num(readings)} CGM readings${sufficient ? ` (${percent(coverage)} of expected${partial})` : ""}.`,
  );
  sentences.push(
    `Time in range (70–180 mg/dL) ${percent(tir)} (target > 70 %); below 70 mg/dL ${percent(b70)} (target < 4 %), below 54 mg/dL ${percent(b54)} (< 1 %); above 180 mg/dL ${percent(a180)} (< 25 %), above 250 mg/dL ${percent(a250)} (< 5 %).`,
  );
  const missed = [
    tir > 70 ? null : "time in range",
    b70 < 4 ? null : "below 70 mg/dL",
    b54 < 1 ? null : "below 54 mg/dL",
    a180 < 25 ? null : "above 180 mg/dL",
    a250 < 5 ? null : "above 250 mg/dL",
  ].filter((m): m is string => m !== null);
  if (missed.length > 0) sentences.push(`Outside the consensus targets: ${listing(missed)}.`);
  sentences.push(
    events === 0
      ? "No hypoglycaemic events (≥ 15 min below 70 mg/dL)."
      : `${num(events)} hypoglycaemic ${plural(events, "event")} (≥ 15 min below 70 mg/dL).`,
  );
  return {
    domain: "glucose",
    title: "Glucose",
    sentences,
    figures: figures.list,
    coverage: { samples: n, daysWithData, days: data.days.length, percent: coverage, sufficient },
  };
}
