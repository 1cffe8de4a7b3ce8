import { DomainError } from "../errors/domain-error";

/**
 * FHIR `date` search parameters (R4 §3.1.1.4.7, https://hl7.org/fhir/R4/search.html#date): a value
 * stands for the whole range of its precision (`2026-01-15` is that UTC day, `2026-01` the month,
 * `2026-01-15T10:00Z` that minute), and the prefix compares that range with the Observation's
 * effective period [start, end]:
 *
 *   eq  the period lies wholly inside the range      start >= low  and end < high
 *   lt  it begins before the range                   start < low
 *   le  it begins before the range ends              start < high
 *   gt  it ends after the range                      end >= high
 *   ge  it ends at or after the range's beginning    end >= low
 *   sa  it starts after the range                    start >= high
 *   eb  it ends before the range                     end < low
 *
 * with `high` exclusive. `ne` and `ap` are refused (400): `ne` cannot use the index, and "approximately"
 * has no definition a person could check their results against. Every parameter must hold (AND).
 */
export const DATE_PREFIXES = ["eq", "lt", "le", "gt", "ge", "sa", "eb"] as const;
type Prefix = (typeof DATE_PREFIXES)[number];

/** Inclusive minimum and exclusive maximum of the start and end instants (epoch ms). */
export interface DateBounds {
  start: { min?: number; max?: number };
  end: { min?: number; max?: number };
}

const EPOCH_MS_MAX = 253_402_300_799_999;
const DATE_VALUE =
  /^([a-z]{2})?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** The range a date value stands for, [low, high) in epoch ms. */
export function dateRange(text: string): { prefix: Prefix; low: number; high: number } {
  const match = DATE_VALUE.exec(text);
  if (match === null) throw invalidDate(text, "not a FHIR date: YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with a zone");
  const [, prefix = "eq", year, month, day, hour, minute, second, fraction, zone] = match;
  if (!(DATE_PREFIXES as readonly string[]).includes(prefix)) {
    throw invalidDate(text, `prefix ${prefix} is not supported; use one of ${DATE_PREFIXES.join(", ")}`);
  }
  if (hour !== undefined && zone === undefined) throw invalidDate(text, "a time needs a zone: Z or ±hh:mm");
  const y = Number(year);
  const mo = month === undefined ? 1 : Number(month);
  const d = day === undefined ? 1 : Number(day);
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) throw invalidDate(text, "no such date");
  let low: number;
  let high: number;
  if (month === undefined) {
    low = utc(y, 0, 1);
    high = utc(y + 1, 0, 1);
  } else if (day === undefined) {
    low = utc(y, mo - 1, 1);
    high = utc(y, mo, 1);
  } else if (hour === undefined || minute === undefined) {
    low = utc(y, mo - 1, d);
    high = low + 86_400_000;
  } else {
    const [h, mi, s] = [Number(hour), Number(minute), Number(second ?? 0)];
    if (h > 23 || mi > 59 || s > 59) throw invalidDate(text, "no such time");
    const ms = fraction === undefined ? 0 : Number(fraction.slice(1).padEnd(3, "0"));
    const offset = zoneOffsetMs(zone ?? "Z");
    if (offset === null) throw invalidDate(text, "no such zone offset");
    low = utc(y, mo - 1, d, h, mi, s, ms) - offset;
    high = low + (fraction !== undefined ? 10 ** (3 - (fraction.length - 1)) : second !== undefined ? 1_000 : 60_000);
  }
  // Year 0000 and dates past 9999 (or before 1970, where nothing is stored) still compare sensibly.
  return { prefix: prefix as Prefix, low: clamp(low), high: clamp(high) };
}

/** The bounds all of `values` impose together (each AND the others). */
export function dateBounds(values: readonly string[]): DateBounds {
  const bounds: DateBounds = { start: {}, end: {} };
  const atLeast = (side: "start" | "end", value: number) => {
    bounds[side].min = Math.max(bounds[side].min ?? 0, value);
  };
  const below = (side: "start" | "end", value: number) => {
    bounds[side].max = Math.min(bounds[side].max ?? EPOCH_MS_MAX + 1, value);
  };
  for (const value of values) {
    const { prefix, low, high } = dateRange(value);
    if (prefix === "eq") {
      atLeast("start", low);
      below("end", high);
    } else if (prefix === "lt") below("start", low);
    else if (prefix === "le") below("start", high);
    else if (prefix === "gt") atLeast("end", high);
    else if (prefix === "ge") atLeast("end", low);
    else if (prefix === "sa") atLeast("start", high);
    else below("end", low);
  }
  return bounds;
}

/** True when no period can satisfy the bounds: the search matches nothing and reads nothing. */
export function isEmpty(bounds: DateBounds): boolean {
  const { start, end } = bounds;
  const startMax = Math.min(start.max ?? Number.POSITIVE_INFINITY, end.max ?? Number.POSITIVE_INFINITY);
  return (start.min ?? 0) >= startMax || (end.min ?? 0) >= (end.max ?? Number.POSITIVE_INFINITY);
}

/** Date.UTC, except that years 0-99 are those years, not 1900-1999. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

function clamp(ms: number): number {
  return Math.min(Math.max(ms, 0), EPOCH_MS_MAX + 1);
}

function daysIn(year: number, month: number): number {
  return new Date(utc(year, month, 0)).getUTCDate();
}

function zoneOffsetMs(zone: string): number | null {
  if (zone === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const [h, m] = zone.slice(1).split(":").map(Number);
  // No zone lies beyond ±14:00 (FHIR's dateTime pattern stops there too).
  if (h === undefined || m === undefined || m > 59 || h * 60 + m > 14 * 60) return null;
  return sign * (h * 60 + m) * 60_000;
}

function invalidDate(value: string, message: string): DomainError {
  return new DomainError("VALIDATION_FAILED", `The date parameter ${JSON.stringify(value)} is not valid.`, {
    errors: [{ path: "date", message }],
  });
}
