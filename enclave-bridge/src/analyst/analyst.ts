import { declineFor } from "./decline.ts";
import { inPeriod, normalize, parseQuestion } from "./question.ts";
import { answerSeries } from "./series.ts";
import type { Finding } from "./sleep.ts";
import { answerSleep } from "./sleep.ts";
import type { AnalystAnswer, AnalystInput } from "./types.ts";
import { type AnalystMetric, METRIC_WORDS, SLEEP } from "./vocabulary.ts";

/**
 * The built-in deterministic analyst (DESIGN §9): answers from the data it is given, with every
 * number it used, so confidential AI works offline and its answers can be tested exactly. It never
 * guesses: a question it does not understand gets a description of what it can answer, and one
 * that asks something it does not handle (a comparison, a count, a weekday...) a plain decline
 * rather than the answer to another question (decline.ts).
 */
export const CAPABILITIES =
  "I can answer questions about averages, ranges, highest and lowest values, trends, time in range and totals " +
  "for resting heart rate, heart rate, HRV, blood glucose, steps, weight and other vitals, and about sleep stages, " +
  'over today, yesterday, the last week, the last month or the last N days — for example "what was my average ' +
  'resting heart rate last week?"';

// Glucose time in range: the international consensus target of 70–180 mg/dL (Battelino et al.,
// Diabetes Care 2019;42:1593).
const DEFAULT_BOUNDS: Partial<Record<AnalystMetric, { low: number; high: number }>> = {
  blood_glucose: { low: 70, high: 180 },
};

export function analyze(input: AnalystInput): AnalystAnswer {
  const parsed = parseQuestion(input.question, input.now);
  const namesData = parsed.metrics.length > 0 || parsed.sleep;
  const decline = declineFor(normalize(input.question), namesData);
  if (decline !== null) return { answer: decline, usedMetrics: [], figures: [] };
  if (!namesData) return { answer: CAPABILITIES, usedMetrics: [], figures: [] };
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
    findings.push(
      answerSeries(intent, {
        words,
        unit: series.unit,
        period: parsed.period,
        readings,
        bounds: parsed.bounds,
        defaultBounds: DEFAULT_BOUNDS[code] ?? null,
      }),
    );
  }
  if (parsed.sleep) {
    usedMetrics.push(SLEEP);
    findings.push(answerSleep(input.data.sleep ?? [], parsed.period, normalize(input.question)));
  }
  return {
    answer: findings.map((finding) => finding.text).join(" "),
    usedMetrics,
    figures: findings.flatMap((finding) => finding.figures),
  };
}
