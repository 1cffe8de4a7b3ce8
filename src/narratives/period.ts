import { utcOfLocal, type Zone } from "../../durable-objects/health-store/zone";
import { DomainError, type FieldError } from "../errors/domain-error";
import { FIRST_DATE, LAST_DATE } from "../observations/dates";
import { parseTimeZone, type TimeZone } from "../observations/time-zone";
import type { NarrativePeriod } from "./types";

/**
 * Which local days a narrative covers: a day, or the ISO 8601 week (Monday to Sunday) containing
 * the date asked for, in the caller's time zone, resolved here (the Worker has the tz database;
 * the HealthStore gets offsets).
 */
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
export const PERIOD_DAYS: Record<NarrativePeriod, number> = { day: 1, week: 7 };

export interface NarrativePeriodTarget {
  period: NarrativePeriod;
  /** The first local date: the day, or the week's Monday. */
  date: string;
  endDate: string;
  timeZone: TimeZone;
  /** Offsets from two days before the period to two days after it. */
  offsets: Zone;
  start: number;
  end: number;
}

export function resolveTimeZone(tz: string): TimeZone {
  const zone = parseTimeZone(tz);
  if (zone === null) throw invalid([{ path: "tz", message: "not an IANA time zone, a ±HH:MM offset or UTC" }]);
  return zone;
}

/** The local calendar date of `utcMs` in `zone`. */
export function localDateOf(zone: TimeZone, utcMs: number): string {
  return new Date(utcMs + zone.offsetAt(utcMs) * MINUTE_MS).toISOString().slice(0, 10);
}

/** The day or week containing `date` (today in `zone` when omitted); 400 naming `date` outside the supported range. */
export function resolveNarrativePeriod(
  period: NarrativePeriod,
  date: string | undefined,
  zone: TimeZone,
  now: number,
): NarrativePeriodTarget {
  const asked = Date.parse(`${date ?? localDateOf(zone, now)}T00:00:00Z`);
  // getUTCDay: Sunday 0 … Saturday 6; the ISO week starts on Monday.
  const first = period === "week" ? asked - ((new Date(asked).getUTCDay() + 6) % 7) * DAY_MS : asked;
  const days = PERIOD_DAYS[period];
  const last = first + (days - 1) * DAY_MS;
  if (first < Date.parse(FIRST_DATE) || last > Date.parse(LAST_DATE)) throw outOfRange(period);
  const offsets = zone.zoneFor(first - 2 * DAY_MS, first + (days + 2) * DAY_MS);
  const start = utcOfLocal(offsets, first);
  const end = utcOfLocal(offsets, first + days * DAY_MS);
  // A day starting before 1970-01-01T00:00Z (its zone east of UTC) holds instants the store cannot.
  if (start < 0) throw outOfRange(period);
  return { period, date: isoDate(first), endDate: isoDate(last), timeZone: zone, offsets, start, end };
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function outOfRange(period: NarrativePeriod): DomainError {
  return invalid([{ path: "date", message: `the ${period} must lie between ${FIRST_DATE} and ${LAST_DATE}` }]);
}

function invalid(errors: FieldError[]): DomainError {
  return new DomainError("VALIDATION_FAILED", "The query is not valid.", { errors });
}
