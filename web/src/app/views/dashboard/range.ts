/**
 * The dashboard's period: a day, a week or a month ending on a local date, or a custom from–to,
 * always in the browser's time zone, and kept in the address (`#/dashboard?range=week&end=…`) so a
 * reload, a bookmark and the back button keep it. Dates are calendar dates (YYYY-MM-DD); the API
 * turns them into local midnights in `tz` itself, so no offset arithmetic happens here.
 */
export type RangeKind = "day" | "week" | "month" | "custom";
export type Resolution = "raw" | "hour" | "day";

export interface Range {
  kind: RangeKind;
  /** First local date, inclusive. */
  from: string;
  /** Last local date, inclusive. */
  to: string;
  days: number;
  /** What the API aggregates to: raw samples for a day, hours for a week, days beyond. */
  resolution: Resolution;
  tz: string;
}

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The read API's longest daily-bucket span. */
export const MAX_DAYS = 732;
const SPAN: Record<Exclude<RangeKind, "custom">, number> = { day: 1, week: 7, month: 30 };

export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Today's date where the browser is. */
export function today(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** Calendar arithmetic on dates, independent of any zone's offsets. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

function isDate(value: string | null): value is string {
  return value !== null && DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

/** A span's resolution: raw for up to two days, hours up to two weeks, days beyond. */
function resolutionFor(days: number): Resolution {
  if (days <= 2) return "raw";
  return days <= 14 ? "hour" : "day";
}

/** The range the address asks for; anything missing or malformed falls back to today's day. */
export function rangeFrom(query: URLSearchParams, tz = timeZone()): Range {
  const kind = query.get("range");
  if (kind === "custom") {
    const from = query.get("from");
    const to = query.get("to");
    if (isDate(from) && isDate(to) && from <= to) {
      const days = daysBetween(from, to);
      if (days <= MAX_DAYS) return { kind, from, to, days, resolution: resolutionFor(days), tz };
    }
  }
  const fixed = kind === "week" || kind === "month" ? kind : "day";
  const endParam = query.get("end");
  const to = isDate(endParam) ? endParam : today();
  const days = SPAN[fixed];
  const resolution: Resolution = fixed === "day" ? "raw" : fixed === "week" ? "hour" : "day";
  return { kind: fixed, from: addDays(to, 1 - days), to, days, resolution, tz };
}

/** The address query for a range: only what differs from the defaults. */
export function rangeQuery(range: Pick<Range, "kind" | "from" | "to">): string {
  const params = new URLSearchParams({ range: range.kind });
  if (range.kind === "custom") {
    params.set("from", range.from);
    params.set("to", range.to);
  } else if (range.to !== today()) params.set("end", range.to);
  return params.toString();
}

/** The same kind of range moved by its own length (earlier: -1, later: +1). */
export function shifted(range: Range, direction: -1 | 1): Pick<Range, "kind" | "from" | "to"> {
  const step = direction * range.days;
  return { kind: range.kind, from: addDays(range.from, step), to: addDays(range.to, step) };
}

/** "7 Dec 2026" or "1 Dec – 7 Dec 2026", in the reader's language. */
export function describeRange(range: Range): string {
  const format = (date: string) =>
    new Date(`${date}T12:00:00Z`).toLocaleDateString(undefined, {
      day: "numeric",
      month: "short",
      year: "numeric",
      timeZone: "UTC",
    });
  return range.from === range.to ? format(range.from) : `${format(range.from)} – ${format(range.to)}`;
}

export const RESOLUTION_TEXT: Record<Resolution, string> = {
  raw: "every reading",
  hour: "hourly means",
  day: "daily means",
};
