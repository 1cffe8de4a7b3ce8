import type { Period } from "./types.ts";
import { type AnalystMetric, METRIC_WORDS, SLEEP, SLEEP_WORDS } from "./vocabulary.ts";

/**
 * A small deterministic parser: what is asked (intent), about which metrics, over which period.
 * Periods are rolling windows ending at `now` ("last week" is the last 7 days, "last month" the
 * last 30), except "today" and "yesterday", which are UTC calendar days: the analyst is not told
 * the user's time zone.
 */
export type Intent = "time_in_range" | "trend" | "range" | "highest" | "lowest" | "total" | "average";

export interface DescribedPeriod extends Period {
  /** How the answer names the period, e.g. "in the last 7 days". */
  label: string;
}

export interface ParsedQuestion {
  intent: Intent | null;
  metrics: AnalystMetric[];
  sleep: boolean;
  period: DescribedPeriod;
  /** An explicit "between 70 and 140" in the question, low first. */
  bounds: { low: number; high: number } | null;
  /** "below 70", "more than 10000": the question asks whether (and how often) values crossed it. */
  threshold: Threshold | null;
  /** "last night": the most recent sleep session ending in the last 24 hours. */
  lastNight: boolean;
  /** "this week vs last week": the period asked about and the one as long just before it. */
  comparison: Comparison | null;
}

export interface Comparison {
  current: DescribedPeriod;
  previous: DescribedPeriod;
}

export interface Threshold {
  direction: "below" | "above";
  value: number;
}

const DAY_MS = 86_400_000;
const UNIT_DAYS: Record<string, number> = { day: 1, week: 7, month: 30, year: 365 };

export function normalize(question: string): string {
  return ` ${question
    .toLowerCase()
    .replace(/[^a-z0-9.%\s-]/g, " ")
    .replace(/\s+/g, " ")} `;
}

function has(text: string, words: readonly string[]): boolean {
  return words.some((word) => new RegExp(`\\b${word}\\b`).test(text));
}

export function parseIntent(text: string): Intent | null {
  if (has(text, ["time in range", "in range", "tir", "in target", "within range"]) || /\bbetween \d/.test(text)) {
    return "time_in_range";
  }
  if (
    has(text, [
      "trend",
      "trending",
      "changed",
      "change",
      "changing",
      "increasing",
      "decreasing",
      "improving",
      "going up",
      "going down",
    ])
  ) {
    return "trend";
  }
  const highest = has(text, ["highest", "max", "maximum", "peak", "most", "top"]);
  const lowest = has(text, ["lowest", "min", "minimum", "least", "fewest"]);
  if (has(text, ["range", "spread"]) || (highest && lowest)) return "range";
  if (highest) return "highest";
  if (lowest) return "lowest";
  if (has(text, ["total", "how many", "sum"])) return "total";
  if (has(text, ["average", "mean", "avg", "typical", "typically", "usual"])) return "average";
  return null;
}

/** Longest synonyms first, each match masked, so "resting heart rate" is not also "heart rate". */
export function parseMetrics(text: string): AnalystMetric[] {
  const candidates = Object.entries(METRIC_WORDS)
    .flatMap(([code, words]) => words.synonyms.map((synonym) => ({ code: code as AnalystMetric, synonym })))
    .sort((a, b) => b.synonym.length - a.synonym.length);
  let masked = text;
  const found: { code: AnalystMetric; at: number }[] = [];
  for (const { code, synonym } of candidates) {
    const match = new RegExp(`\\b${synonym}\\b`).exec(masked);
    if (match === null) continue;
    masked = masked.slice(0, match.index) + "_".repeat(synonym.length) + masked.slice(match.index + synonym.length);
    if (!found.some((entry) => entry.code === code)) found.push({ code, at: match.index });
  }
  return found.sort((a, b) => a.at - b.at).map((entry) => entry.code);
}

export function parsePeriod(text: string, now: string): DescribedPeriod {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) return { since: null, until: null, label: "across all the data given" };
  const until = new Date(nowMs).toISOString();
  const startOfToday = Math.floor(nowMs / DAY_MS) * DAY_MS;
  if (/\blast night\b/.test(text)) {
    // The Worker selects sessions overlapping the window, so one ending in the last 24 h arrives whole.
    return { since: new Date(nowMs - DAY_MS).toISOString(), until, label: "last night" };
  }
  if (/\btoday\b/.test(text)) return { since: new Date(startOfToday).toISOString(), until, label: "today" };
  if (/\byesterday\b/.test(text)) {
    return {
      since: new Date(startOfToday - DAY_MS).toISOString(),
      until: new Date(startOfToday).toISOString(),
      label: "yesterday",
    };
  }
  const counted = /\b(?:last|past|previous) (\d{1,4}) (day|week|month|year)s?\b/.exec(text);
  const single = /\b(?:last|past|previous|this) (day|week|month|year)\b/.exec(text);
  const count = counted ? Number(counted[1]) : 1;
  const unit = counted?.[2] ?? single?.[1];
  const unitDays = unit === undefined ? undefined : UNIT_DAYS[unit];
  if (unitDays === undefined || count < 1) return { since: null, until: null, label: "across all the data given" };
  const days = count * unitDays;
  return {
    since: new Date(nowMs - days * DAY_MS).toISOString(),
    until,
    label: `in the last ${days} day${days === 1 ? "" : "s"}`,
  };
}

function parseBounds(text: string): { low: number; high: number } | null {
  const match = /(\d+(?:\.\d+)?) ?(?:-|to|and) ?(\d+(?:\.\d+)?)/.exec(text.replace(/\b(?:last|past|previous) \d+/g, " "));
  if (match === null) return null;
  const a = Number(match[1]);
  const b = Number(match[2]);
  return { low: Math.min(a, b), high: Math.max(a, b) };
}

const BELOW = ["below", "under", "less than", "lower than", "beneath", "fewer than", "dropped below", "went below"];
const ABOVE = ["above", "over", "more than", "higher than", "greater than", "exceeded", "exceed", "exceeding", "went above"];

export function parseThreshold(text: string): Threshold | null {
  const words = [...BELOW, ...ABOVE].sort((a, b) => b.length - a.length).join("|");
  const match = new RegExp(`\\b(${words}) (\\d+(?:\\.\\d+)?)\\b`).exec(text);
  if (match === null || match[1] === undefined) return null;
  return { direction: BELOW.includes(match[1]) ? "below" : "above", value: Number(match[2]) };
}

const COMPARING = /\b(?:vs|versus|compare|compared|comparing|comparison|than|against)\b/;

/**
 * "this week vs last week", "steps compared with last month", "higher than last week": the last
 * 7 (or 30) days against the 7 (or 30) before them. Only weeks and months without a count; any
 * other comparison is declined (decline.ts).
 */
export function parseComparison(text: string, now: string): Comparison | null {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs) || !COMPARING.test(text)) return null;
  const previous = /\b(?:last|previous|prior|the week before|the month before) ?(week|month)?\b/.exec(text);
  const units = [...text.matchAll(/\b(?:this|last|previous|prior|past) (week|month)\b/g)].map((match) => match[1]);
  const unit = units[0];
  if (previous === null || unit === undefined || units.some((other) => other !== unit)) return null;
  if (/\b(?:last|past|previous) \d/.test(text)) return null;
  const days = unit === "week" ? 7 : 30;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    current: { since: iso(nowMs - days * DAY_MS), until: iso(nowMs), label: `in the last ${days} days` },
    previous: {
      since: iso(nowMs - 2 * days * DAY_MS),
      until: iso(nowMs - days * DAY_MS),
      label: `in the ${days} days before`,
    },
  };
}

export function parseQuestion(question: string, now: string): ParsedQuestion {
  const text = normalize(question);
  return {
    intent: parseIntent(text),
    metrics: parseMetrics(text),
    sleep: has(text, SLEEP_WORDS),
    period: parsePeriod(text, now),
    bounds: parseBounds(text),
    threshold: parseThreshold(text),
    lastNight: /\blast night\b/.test(text),
    comparison: parseComparison(text, now),
  };
}

/** The metric codes (and `sleep`) a question needs, so the Worker seals only that data. */
export function metricsNeeded(question: string): string[] {
  const text = normalize(question);
  const metrics: string[] = parseMetrics(text);
  return has(text, SLEEP_WORDS) ? [...metrics, SLEEP] : metrics;
}

/** The window a question asks about relative to `now`; `null` bounds mean all the data. */
export function periodOf(question: string, now: string): Period {
  const text = normalize(question);
  const comparison = parseComparison(text, now);
  if (comparison !== null) return { since: comparison.previous.since, until: comparison.current.until };
  const { since, until } = parsePeriod(text, now);
  return { since, until };
}

/** Whether an instant (epoch ms) falls in the half-open period. */
export function inPeriod(at: number, period: Period): boolean {
  if (Number.isNaN(at)) return false;
  return (period.since === null || at >= Date.parse(period.since)) && (period.until === null || at < Date.parse(period.until));
}
