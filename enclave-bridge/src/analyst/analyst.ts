import { declineDiagnosis, declineFor, SUMMARY_PERIODS } from "./decline.ts";
import { type Comparison, inPeriod, normalize, type ParsedQuestion, parseQuestion, SUMMARY, summaryTarget } from "./question.ts";
import { answerComparison, answerSeries, answerThreshold } from "./series.ts";
import type { Finding } from "./sleep.ts";
import { answerLastNight, answerSleep } from "./sleep.ts";
import { answerSummary } from "./summary.ts";
import type { AnalystAnswer, AnalystInput } from "./types.ts";
import { type AnalystMetric, METRIC_WORDS, SLEEP } from "./vocabulary.ts";
import { type LocalZone, zoneOf } from "./zone.ts";

/**
 * The built-in deterministic analyst (DESIGN §9): answers from the data it is given, with every
 * number it used, so confidential AI works offline and its answers can be tested exactly. It never
 * guesses: a question it does not understand gets a description of what it can answer, and one
 * that asks something it does not handle (a comparison, a count, a weekday...) a plain decline
 * rather than the answer to another question (decline.ts).
 */
/** Named in every answer's model identity and receipt; raise it whenever an answer could change. */
export const ANALYST_VERSION = "4";

export const CAPABILITIES =
  "I can answer questions about averages, ranges, highest and lowest values, trends, time in range, totals and " +
  "how often values were below or above a number you give " +
  "for resting heart rate, heart rate, HRV, blood glucose, steps, weight and other vitals, and about sleep stages " +
  "(also last night's), " +
  "over today, yesterday, a day such as Monday, the last week, the last month or the last N days — for example " +
  '"what was my average resting heart rate last week?"; and I can summarize your day or week ("summarize my week").';

const UNREAD_PERIOD = /\b(?:\d+ (?:days?|weeks?|months?|years?)|quarters?|semesters?|seasons?|decades?)\b/;
const PERIODS_DECLINE =
  'I can only answer for today, yesterday, a day such as Monday or the last N days, weeks or months, e.g. "my average steps in the last 7 days".';

// Glucose time in range: the international consensus target of 70–180 mg/dL (Battelino et al.,
// Diabetes Care 2019;42:1593).
const DEFAULT_BOUNDS: Partial<Record<AnalystMetric, { low: number; high: number }>> = {
  blood_glucose: { low: 70, high: 180 },
};

export function analyze(input: AnalystInput): AnalystAnswer {
  const parsed = parseQuestion(input.question, input.now, input.timeZone);
  const zone = zoneOf(input.timeZone);
  const text = normalize(input.question);
  const namesData = parsed.metrics.length > 0 || parsed.sleep;
  if (SUMMARY.test(text)) {
    const diagnosis = declineDiagnosis(text);
    if (diagnosis !== null) return { answer: diagnosis, usedMetrics: [], figures: [] };
    const target = summaryTarget(input.question, input.now, input.timeZone);
    if (target === null) return { answer: SUMMARY_PERIODS, usedMetrics: [], figures: [] };
    return answerSummary(target, input.data.narrative, parsed.sleep ? [...parsed.metrics, SLEEP] : parsed.metrics);
  }
  const decline = declineFor(text, namesData, parsed.comparison !== null);
  if (decline !== null) return { answer: decline, usedMetrics: [], figures: [] };
  if (!namesData) return { answer: CAPABILITIES, usedMetrics: [], figures: [] };
  // A period the parser did not recognise ("in 2 weeks", "this quarter") must not become "all the data".
  if (parsed.period.since === null && parsed.comparison === null && UNREAD_PERIOD.test(text)) {
    return { answer: PERIODS_DECLINE, usedMetrics: [], figures: [] };
  }
  const limit = limitation(parsed);
  if (limit !== null) return { answer: limit, usedMetrics: [], figures: [] };
  if (parsed.comparison !== null) return compare(input, parsed, parsed.comparison, zone);
  const findings: Finding[] = [];
  const usedMetrics: string[] = [];
  for (const code of parsed.metrics) {
    const words = METRIC_WORDS[code];
    const series = input.data.metrics[code];
    const readings = (series?.points ?? [])
      .map((point) => ({ at: Date.parse(point.start), value: point.value }))
      .filter((reading) => Number.isFinite(reading.value) && inPeriod(reading.at, parsed.period));
    usedMetrics.push(code);
    if (series === undefined || readings.length === 0) {
      findings.push({ text: `I have no ${words.display} data ${parsed.period.label}.`, figures: [] });
      continue;
    }
    const intent = parsed.intent ?? (words.aggregation === "sum" ? "total" : "average");
    const context = {
      words,
      unit: series.unit,
      period: parsed.period,
      readings,
      bounds: parsed.bounds,
      defaultBounds: DEFAULT_BOUNDS[code] ?? null,
      zone,
    };
    findings.push(
      parsed.threshold !== null && intent !== "time_in_range"
        ? answerThreshold(context, parsed.threshold)
        : answerSeries(intent, context),
    );
  }
  if (parsed.sleep) {
    usedMetrics.push(SLEEP);
    const sessions = input.data.sleep ?? [];
    findings.push(
      parsed.lastNight ? answerLastNight(sessions, parsed.period, text, zone) : answerSleep(sessions, parsed.period, text),
    );
  }
  return {
    answer: findings.map((finding) => finding.text).join(" "),
    usedMetrics,
    figures: findings.flatMap((finding) => finding.figures),
  };
}

/** Combinations the analyst does not answer even though each part parses. */
function limitation(parsed: ParsedQuestion): string | null {
  if (
    parsed.comparison !== null &&
    (parsed.sleep || parsed.threshold !== null || (parsed.intent !== null && !["average", "total"].includes(parsed.intent)))
  ) {
    return 'I can compare this week with last week (or this month with last month) as totals or averages of a measure, e.g. "my steps this week vs last week"; not sleep, counts or extremes yet.';
  }
  if (parsed.lastNight && (parsed.metrics.length > 0 || !parsed.sleep)) {
    return 'I can answer "last night" only about sleep, e.g. "how did I sleep last night"; for other measures ask about today, yesterday or the last N days.';
  }
  if (parsed.threshold !== null && parsed.intent !== "time_in_range" && (parsed.sleep || parsed.metrics.length !== 1)) {
    return parsed.sleep
      ? 'I can\'t count nights above or below a length of sleep yet; ask e.g. "how did I sleep in the last 7 days".'
      : 'I can count readings below or above a value for one measure at a time, e.g. "was my blood glucose ever below 70 this month".';
  }
  return null;
}

function compare(input: AnalystInput, parsed: ParsedQuestion, comparison: Comparison, zone: LocalZone): AnalystAnswer {
  const findings: Finding[] = [];
  for (const code of parsed.metrics) {
    const words = METRIC_WORDS[code];
    const series = input.data.metrics[code];
    const readings = (series?.points ?? [])
      .map((point) => ({ at: Date.parse(point.start), value: point.value }))
      .filter((reading) => Number.isFinite(reading.value));
    const current = readings.filter((reading) => inPeriod(reading.at, comparison.current));
    const previous = readings.filter((reading) => inPeriod(reading.at, comparison.previous));
    const missing = current.length === 0 ? comparison.current : previous.length === 0 ? comparison.previous : null;
    if (series === undefined || missing !== null) {
      const label = (missing ?? comparison.current).label;
      findings.push({ text: `I have no ${words.display} data ${label}, so I can't compare.`, figures: [] });
      continue;
    }
    findings.push(answerComparison(words, series.unit, parsed.intent, comparison, current, previous, zone));
  }
  return {
    answer: findings.map((finding) => finding.text).join(" "),
    usedMetrics: [...parsed.metrics],
    figures: findings.flatMap((finding) => finding.figures),
  };
}
