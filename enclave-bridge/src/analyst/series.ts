import type { DescribedPeriod, Intent, Threshold } from "./question.ts";
import type { Finding } from "./sleep.ts";
import {
  dailyTotals,
  extreme,
  formatDay,
  formatInstant,
  formatNumber,
  halves,
  mean,
  round,
  slopePerDay,
  sum,
  type TimedValue,
} from "./stats.ts";
import type { MetricWords } from "./vocabulary.ts";
import { decimalsFor } from "./vocabulary.ts";
import type { LocalZone } from "./zone.ts";

export interface SeriesContext {
  words: MetricWords;
  unit: string;
  period: DescribedPeriod;
  /** Readings as stored; `sum` metrics are also totalled per day before averages, extremes and trends. */
  readings: TimedValue[];
  bounds: { low: number; high: number } | null;
  /** Default time-in-range bounds for this metric, if it has a conventional one. */
  defaultBounds: { low: number; high: number } | null;
  /** The asker's zone: days are local days, instants are shown on the local clock. */
  zone: LocalZone;
}

/** Each intent's answer for one metric. `readings` is never empty here. */
export function answerSeries(intent: Intent, context: SeriesContext): Finding {
  const { words, unit, period, readings, zone } = context;
  const daily = words.aggregation === "sum";
  const values = daily ? dailyTotals(readings, zone) : readings;
  const decimals = decimalsFor(unit);
  const show = (value: number, places = decimals) =>
    `${formatNumber(value, places)}${unit === "count" ? ` ${words.display}` : unit === "%" ? "%" : ` ${unit}`}`;
  const when = (at: number) => (daily ? `on ${formatDay(at, zone)}` : `at ${formatInstant(at, zone)}`);
  const per = daily ? " per day" : "";
  const samples = daily ? `${values.length} day${values.length === 1 ? "" : "s"} with data` : `${values.length} readings`;
  const sampleFigure = { label: daily ? "days with data" : "readings", value: values.length, unit: "count" };

  if (intent === "total" && daily) {
    const total = round(sum(values), decimals);
    return {
      text: `Your total ${words.display} ${period.label} was ${show(total)} (${samples}).`,
      figures: [{ label: `total ${words.display}`, value: total, unit }, sampleFigure],
    };
  }
  if (intent === "highest" || intent === "lowest") {
    const found = extreme(values, intent);
    if (found === undefined) return { text: `I have no ${words.display} data ${period.label}.`, figures: [] };
    const value = round(found.value, decimals);
    return {
      text: `Your ${intent} ${words.display}${per} ${period.label} was ${show(value)}, ${when(found.at)}.`,
      figures: [{ label: `${intent} ${words.display}${per}`, value, unit }],
    };
  }
  if (intent === "range") {
    const low = extreme(values, "lowest");
    const high = extreme(values, "highest");
    if (low === undefined || high === undefined) return { text: `I have no ${words.display} data ${period.label}.`, figures: [] };
    const lowValue = round(low.value, decimals);
    const highValue = round(high.value, decimals);
    return {
      text: `Your ${words.display}${per} ${period.label} ranged from ${show(lowValue)} (${when(low.at)}) to ${show(highValue)} (${when(high.at)}).`,
      figures: [
        { label: `lowest ${words.display}${per}`, value: lowValue, unit },
        { label: `highest ${words.display}${per}`, value: highValue, unit },
      ],
    };
  }
  if (intent === "trend") return answerTrend(context, values, show, per);
  if (intent === "time_in_range") return answerTimeInRange(context);
  const average = round(mean(values), decimals);
  return {
    text: `Your average ${words.display}${per} ${period.label} was ${show(average)} (${samples}).`,
    figures: [{ label: `average ${words.display}${per}`, value: average, unit }, sampleFigure],
  };
}

function answerTrend(
  context: SeriesContext,
  values: TimedValue[],
  show: (value: number, places?: number) => string,
  per: string,
): Finding {
  const { words, unit, period } = context;
  const slope = slopePerDay(values);
  const [first, second] = halves(values);
  if (slope === null || first.length === 0 || second.length === 0) {
    return { text: `There are not enough ${words.display} readings ${period.label} to tell a trend.`, figures: [] };
  }
  const decimals = decimalsFor(unit);
  const spanDays = (Math.max(...values.map((v) => v.at)) - Math.min(...values.map((v) => v.at))) / 86_400_000;
  const overall = mean(values);
  // Under 1% of the level over the whole span reads as noise, not a direction.
  const direction = Math.abs(slope * spanDays) < Math.abs(overall) * 0.01 ? "stable" : slope > 0 ? "rising" : "falling";
  const firstAverage = round(mean(first), decimals);
  const secondAverage = round(mean(second), decimals);
  const perDay = round(slope, decimals + 1);
  return {
    text:
      `Your ${words.display}${per} ${period.label} is ${direction}: it averaged ${show(firstAverage)} in the first half ` +
      `and ${show(secondAverage)} in the second, a change of ${perDay > 0 ? "+" : ""}${show(perDay, decimals + 1)} per day.`,
    figures: [
      { label: `average ${words.display}${per}, first half`, value: firstAverage, unit },
      { label: `average ${words.display}${per}, second half`, value: secondAverage, unit },
      { label: `${words.display} change per day`, value: perDay, unit: `${unit}/day` },
    ],
  };
}

function answerTimeInRange(context: SeriesContext): Finding {
  const { words, unit, period, readings } = context;
  const bounds = context.bounds ?? context.defaultBounds;
  if (bounds === null) {
    return {
      text: `Tell me the ${words.display} range to check, for example "time between 50 and 100 ${unit}".`,
      figures: [],
    };
  }
  const below = readings.filter((r) => r.value < bounds.low).length;
  const above = readings.filter((r) => r.value > bounds.high).length;
  const percent = (count: number) => round((count / readings.length) * 100, 1);
  const inRange = percent(readings.length - below - above);
  const range = `${bounds.low}–${bounds.high} ${unit}`;
  return {
    text:
      `${period.label.charAt(0).toUpperCase()}${period.label.slice(1)}, ${formatNumber(inRange, 1)}% of your ${readings.length} ` +
      `${words.display} readings were in range (${range}); ${formatNumber(percent(below), 1)}% below and ${formatNumber(percent(above), 1)}% above.`,
    figures: [
      { label: "time in range", value: inRange, unit: "%" },
      { label: "time below range", value: percent(below), unit: "%" },
      { label: "time above range", value: percent(above), unit: "%" },
      { label: "readings", value: readings.length, unit: "count" },
    ],
  };
}

/**
 * Whether, and how often, values crossed a threshold: each reading for levels (glucose below 70),
 * each day's total for quantities that add up (days with more than 10,000 steps). Strictly below
 * or above: a reading equal to the value does not count.
 */
export function answerThreshold(context: SeriesContext, threshold: Threshold): Finding {
  const { words, unit, period, readings, zone } = context;
  const daily = words.aggregation === "sum";
  const values = daily ? dailyTotals(readings, zone) : readings;
  const decimals = decimalsFor(unit);
  const show = (value: number) =>
    `${formatNumber(value, decimals)}${unit === "count" ? ` ${words.display}` : unit === "%" ? "%" : ` ${unit}`}`;
  const when = (at: number) => (daily ? formatDay(at, zone) : formatInstant(at, zone));
  const crossed = values.filter((entry) =>
    threshold.direction === "below" ? entry.value < threshold.value : entry.value > threshold.value,
  );
  const line = `${threshold.direction} ${show(threshold.value)}`;
  const of = daily
    ? `${values.length} day${values.length === 1 ? "" : "s"} with ${words.display} data`
    : `${values.length} ${words.display} reading${values.length === 1 ? "" : "s"}`;
  const share = round((crossed.length / values.length) * 100, 1);
  const figures = [
    { label: `${daily ? "days" : "readings"} ${line}`, value: crossed.length, unit: "count" },
    { label: daily ? "days with data" : "readings", value: values.length, unit: "count" },
    { label: `share ${line}`, value: share, unit: "%" },
  ];
  const first = crossed[0];
  const last = crossed[crossed.length - 1];
  if (first === undefined || last === undefined) {
    const nearest = extreme(values, threshold.direction === "below" ? "lowest" : "highest");
    const nearestText =
      nearest === undefined
        ? ""
        : `; the ${threshold.direction === "below" ? "lowest" : "highest"} was ${show(round(nearest.value, decimals))}${daily ? " per day" : ""} (${daily ? "on " : "at "}${when(nearest.at)})`;
    return { text: `No: none of your ${of} ${period.label} was ${line}${nearestText}.`, figures };
  }
  const span =
    crossed.length === 1
      ? `${daily ? "on" : "at"} ${when(first.at)}`
      : `the first ${daily ? "on" : "at"} ${when(first.at)} and the last ${daily ? "on" : "at"} ${when(last.at)}`;
  return {
    text: `Yes: ${crossed.length} of your ${of} ${period.label} (${formatNumber(share, 1)}%) ${crossed.length === 1 ? "was" : "were"} ${line}, ${span}.`,
    figures,
  };
}

/**
 * One figure for each of two periods and the difference: totals for quantities that add up (the
 * per-day average when an average is asked), averages for levels. Both lists are non-empty.
 */
export function answerComparison(
  words: MetricWords,
  unit: string,
  intent: Intent | null,
  periods: { current: DescribedPeriod; previous: DescribedPeriod },
  current: TimedValue[],
  previous: TimedValue[],
  zone: LocalZone,
): Finding {
  const daily = words.aggregation === "sum";
  const totals = daily && intent !== "average";
  const figure = (readings: TimedValue[]) =>
    totals ? sum(readings) : daily ? mean(dailyTotals(readings, zone)) : mean(readings);
  const decimals = decimalsFor(unit);
  const show = (value: number) =>
    `${formatNumber(value, decimals)}${unit === "count" ? ` ${words.display}` : unit === "%" ? "%" : ` ${unit}`}`;
  const now = round(figure(current), decimals);
  const before = round(figure(previous), decimals);
  const difference = round(now - before, decimals);
  const what = totals ? `total ${words.display}` : `average ${words.display}${daily ? " per day" : ""}`;
  const change =
    difference === 0
      ? "the same"
      : `${show(Math.abs(difference))} ${difference > 0 ? "more" : "less"}${
          before === 0 ? "" : ` (${difference > 0 ? "+" : "-"}${formatNumber(Math.abs((difference / before) * 100), 1)}%)`
        }`;
  return {
    text: `Your ${what} ${periods.current.label} was ${show(now)}, against ${show(before)} ${periods.previous.label}: ${change}.`,
    figures: [
      { label: `${what}, ${periods.current.label}`, value: now, unit },
      { label: `${what}, ${periods.previous.label}`, value: before, unit },
      { label: `${what}, difference`, value: difference, unit },
    ],
  };
}
