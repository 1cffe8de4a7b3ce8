import type { Period } from "./types.ts";
import { type AnalystMetric, METRIC_WORDS, SLEEP, SLEEP_WORDS } from "./vocabulary.ts";
import { isoDateOf, type LocalZone, localDayOf, longDateOf, shortDateOf, startOfLocalDay, weekdayOf, zoneOf } from "./zone.ts";

/**
 * A small deterministic parser: what is asked (intent), about which metrics, over which period.
 * Periods are rolling windows ending at `now` ("last week" is the last 7 days, "last month" the
 * last 30), except calendar words — "today", "yesterday", "last night", "on Monday", "my day",
 * "my week" — which are local days in the asker's time zone (zone.ts; UTC when none is given).
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
  /** "last night": the most recent sleep session ending today (local), started before noon. */
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
  const text = question
    .toLowerCase()
    // Comparison signs carry the question: dropped with the other symbols, "glucose < 70" would
    // read as "glucose 70" and get an average. Inclusive ones are named so decline.ts declines
    // them (a count "below 70" is not a count "at most 70").
    .replace(/<=|=<|≤|⩽/g, " at most ")
    .replace(/>=|=>|≥|⩾/g, " at least ")
    .replace(/</g, " below ")
    .replace(/>/g, " above ")
    .replace(/[^a-z0-9.%\s-]/g, " ")
    .replace(/\s+/g, " ")
    // Run together or shortened, "last night" is still last night, not every night; "last wk" is
    // last week and a fortnight two weeks, not "all the data".
    .replace(/\blast ?(?:night|nite)\b/g, "last night")
    .replace(/\bwks\b/g, "weeks")
    .replace(/\bwk\b/g, "week")
    .replace(/\bfortnight\b/g, "2 weeks");
  return ` ${text.split(" ").map(corrected).join(" ")} `;
}

/**
 * Words people mistype, corrected when one edit (an insertion, deletion, substitution or swap of
 * neighbours) away: "avrage", "stpes", "glucoce". Only these long, distinctive words, and never a
 * real word one edit away from one ("height" is not "weight", "stops" not "steps"), so a correction
 * cannot turn a question into another one.
 */
const TYPO_TARGETS = ["average", "glucose", "steps", "heart", "resting", "highest", "lowest", "yesterday", "summarize"];
const REAL_WORDS = new Set(["stops", "stems", "steep", "heard", "hearts", "hearty", "hearth", "lowers", "resting", "testing"]);

function corrected(word: string): string {
  if (word.length < 5 || TYPO_TARGETS.includes(word) || REAL_WORDS.has(word)) return word;
  return TYPO_TARGETS.find((target) => oneEditApart(word, target)) ?? word;
}

function oneEditApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
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

const ALL_DATA: DescribedPeriod = { since: null, until: null, label: "across all the data given" };

const WEEKDAY_WORDS: Record<string, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};
const WEEKDAY_SHORT: Record<string, number> = {
  sun: 0,
  mon: 1,
  tue: 2,
  tues: 2,
  wed: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  fri: 5,
  sat: 6,
};

/**
 * The weekday a question names (0 = Sunday), or null. Full names anywhere; the short forms only
 * after "on" or "last", where "sat" or "sun" cannot be an ordinary word. A plural ("on Mondays")
 * asks about every such day, which is not one period: not a weekday here (decline.ts).
 */
export function parseWeekday(text: string): number | null {
  const full = /\b(sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/.exec(text);
  if (full?.[1] !== undefined) return WEEKDAY_WORDS[full[1]] ?? null;
  const short = /\b(?:on|last|past) (sun|mon|tues|tue|wed|thurs|thur|thu|fri|sat)\b/.exec(text);
  return short?.[1] === undefined ? null : (WEEKDAY_SHORT[short[1]] ?? null);
}

/** The most recent local day before today falling on `weekday` (a week ago when today is one). */
export function lastWeekday(today: number, weekday: number): number {
  return today - ((weekdayOf(today) - weekday + 7) % 7 || 7);
}

function localDayPeriod(day: number, zone: LocalZone, label: string, nowMs?: number): DescribedPeriod {
  const since = startOfLocalDay(day, zone);
  const end = startOfLocalDay(day + 1, zone);
  const until = nowMs === undefined ? end : Math.min(end, nowMs);
  return { since: new Date(since).toISOString(), until: new Date(until).toISOString(), label };
}

export function parsePeriod(text: string, now: string, timeZone?: string): DescribedPeriod {
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs)) return ALL_DATA;
  const zone = zoneOf(timeZone);
  const today = localDayOf(nowMs, zone);
  if (/\blast night\b/.test(text)) {
    // The night that ended this (local) morning. The Worker selects sessions overlapping the
    // window, so one that began yesterday evening arrives whole.
    return localDayPeriod(today, zone, "last night", nowMs);
  }
  if (/\btoday\b/.test(text)) return localDayPeriod(today, zone, "today", nowMs);
  if (/\byesterday\b/.test(text)) return localDayPeriod(today - 1, zone, "yesterday");
  const weekday = parseWeekday(text);
  if (weekday !== null) {
    const day = lastWeekday(today, weekday);
    return localDayPeriod(day, zone, `on ${longDateOf(day)}`);
  }
  const counted = /\b(?:last|past|previous) (\d{1,4}) (day|week|month|year)s?\b/.exec(text);
  const single = /\b(?:last|past|previous|this) (day|week|month|year)\b/.exec(text);
  const count = counted ? Number(counted[1]) : 1;
  const unit = counted?.[2] ?? single?.[1];
  const unitDays = unit === undefined ? undefined : UNIT_DAYS[unit];
  if (unitDays === undefined || count < 1) return ALL_DATA;
  const days = count * unitDays;
  return {
    since: new Date(nowMs - days * DAY_MS).toISOString(),
    until: new Date(nowMs).toISOString(),
    label: `in the last ${days} day${days === 1 ? "" : "s"}`,
  };
}

/** "Summarize my week", "how was my day", "overview of yesterday": a narrative is asked for. */
export const SUMMARY = /\b(?:summari[sz]e|summary|overview|recap|how was my (?:day|week)|how did my (?:day|week) go)\b/;

export interface SummaryTarget {
  period: "day" | "week";
  /** The first local date: the day, or the Monday of the (ISO 8601) week. */
  date: string;
  /** "your week of 30 Nov – 6 Dec", "your day, Monday 7 December". */
  label: string;
  /** The local days' bounds: [since, until). */
  since: string;
  until: string;
}

/**
 * The local day or week a summary question asks about: today by default for "my day", the week
 * containing today for "my week"; "yesterday", "on Monday" and "last week" as they say. Weeks run
 * Monday to Sunday, as the clinical narratives' do. `null` when it names no day or week (or a
 * month): the analyst then says which summaries it gives.
 */
export function summaryTarget(question: string, now: string, timeZone?: string): SummaryTarget | null {
  const text = normalize(question);
  const nowMs = Date.parse(now);
  if (Number.isNaN(nowMs) || !SUMMARY.test(text)) return null;
  const zone = zoneOf(timeZone);
  const today = localDayOf(nowMs, zone);
  const day = (first: number): SummaryTarget => ({
    period: "day",
    date: isoDateOf(first),
    label: first === today ? `your day today, ${longDateOf(first)}` : `your day, ${longDateOf(first)}`,
    since: new Date(startOfLocalDay(first, zone)).toISOString(),
    until: new Date(startOfLocalDay(first + 1, zone)).toISOString(),
  });
  const week = (monday: number): SummaryTarget => ({
    period: "week",
    date: isoDateOf(monday),
    label: `your week of ${shortDateOf(monday)} – ${shortDateOf(monday + 6)}${monday + 6 >= today ? " (so far)" : ""}`,
    since: new Date(startOfLocalDay(monday, zone)).toISOString(),
    until: new Date(startOfLocalDay(monday + 7, zone)).toISOString(),
  });
  if (/\b(?:months?|years?|monthly|yearly)\b/.test(text)) return null;
  if (/\byesterday\b/.test(text)) return day(today - 1);
  const weekday = parseWeekday(text);
  if (weekday !== null) return day(lastWeekday(today, weekday));
  const monday = today - ((weekdayOf(today) + 6) % 7);
  if (/\b(?:last|previous|past) week\b|\bthe week before\b/.test(text)) return week(monday - 7);
  if (/\b(?:week|weekly)\b/.test(text)) return week(monday);
  if (/\b(?:today|day|daily)\b/.test(text)) return day(today);
  return null;
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
  // "10k steps" is 10,000.
  const match = new RegExp(`\\b(${words}) (\\d+(?:\\.\\d+)?)( ?k)?\\b`).exec(text);
  if (match === null || match[1] === undefined) return null;
  const value = Number(match[2]) * (match[3] === undefined ? 1 : 1000);
  return { direction: BELOW.includes(match[1]) ? "below" : "above", value };
}

const THRESHOLD_THAN = /\b(?:more|less|fewer|higher|lower|greater) than (?=\d)/g;
const COMPARING = /\b(?:vs|versus|compare|compared|comparing|comparison|than|against)\b/;

/**
 * "this week vs last week", "steps compared with last month", "higher than last week": the last
 * 7 (or 30) days against the 7 (or 30) before them. Only weeks and months without a count; any
 * other comparison is declined (decline.ts).
 */
export function parseComparison(text: string, now: string): Comparison | null {
  const nowMs = Date.parse(now);
  // "more than 10000 steps last week" sets a threshold; it compares nothing with last week.
  if (Number.isNaN(nowMs) || !COMPARING.test(text.replace(THRESHOLD_THAN, " "))) return null;
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

export function parseQuestion(question: string, now: string, timeZone?: string): ParsedQuestion {
  const text = normalize(question);
  return {
    intent: parseIntent(text),
    metrics: parseMetrics(text),
    sleep: has(text, SLEEP_WORDS),
    period: parsePeriod(text, now, timeZone),
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

/**
 * The window a question asks about relative to `now`, in the asker's zone: the data the Worker
 * selects (and the narrative's day or week for a summary). `null` bounds mean all the data.
 */
export function periodOf(question: string, now: string, timeZone?: string): Period {
  const text = normalize(question);
  const summary = summaryTarget(question, now, timeZone);
  if (summary !== null) return { since: summary.since, until: summary.until };
  const comparison = parseComparison(text, now);
  if (comparison !== null) return { since: comparison.previous.since, until: comparison.current.until };
  const { since, until } = parsePeriod(text, now, timeZone);
  return { since, until };
}

/** Whether an instant (epoch ms) falls in the half-open period. */
export function inPeriod(at: number, period: Period): boolean {
  if (Number.isNaN(at)) return false;
  return (period.since === null || at >= Date.parse(period.since)) && (period.until === null || at < Date.parse(period.until));
}
