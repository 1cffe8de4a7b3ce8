import { MAX_INSTANT_MS, reject } from "../../health-connect/fields";
import { localDateOf, parseZoneOffset } from "../../health-connect/local-time";
import { parseTimeZone } from "../../observations/time-zone";

/**
 * Provider timestamps → UTC instants, zone offsets and local dates. Providers write ISO 8601 with
 * the person's offset (`2026-03-01T07:12:00-05:00`), UTC (`…Z`), a local wall clock without offset
 * (Dexcom receivers, Polar `start_time`), or epoch seconds (Withings); each mapping says which.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const HOUR_MS = 3_600_000;

export interface ProviderTime {
  /** The instant, epoch ms UTC; for a wall clock without offset, the wall clock read as UTC. */
  ms: number;
  /** The offset written in the timestamp, seconds east of UTC; `null` when none was written. */
  offsetSeconds: number | null;
  /** The calendar date of the wall clock as written (`YYYY-MM-DD`). */
  wallDate: string;
}

/** Parses an ISO 8601 timestamp; `path` names the field in the rejection reason. */
export function parseTimestamp(value: unknown, path: string): ProviderTime {
  if (typeof value !== "string") reject(`${path} is missing or not a timestamp`);
  const match = ISO.exec(value);
  if (match === null) reject(`${path} is not an ISO 8601 timestamp`);
  const [, year, month, day, hour, minute, second = "00", fraction = "", zone] = match;
  const wall = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const wallDate = `${year}-${month}-${day}`;
  // Date.UTC rolls 2026-02-30 over into March: a date that does not round-trip is not a date.
  if (!Number.isFinite(wall) || new Date(wall).toISOString().slice(0, 10) !== wallDate || Number(hour) > 23) {
    reject(`${path} is not a valid date and time`);
  }
  // Digits, not floating point: 0.57 × 1000 is 569.999…; sub-millisecond digits are dropped.
  const millis = fraction === "" ? 0 : Number(`${fraction.slice(1)}00`.slice(0, 3));
  const offsetSeconds = zone === undefined ? null : parseZoneOffset(normalizeOffset(zone));
  if (zone !== undefined && offsetSeconds === null) reject(`${path} has an unreadable UTC offset`);
  const ms = wall + millis - (offsetSeconds ?? 0) * 1000;
  return { ms: checkInstant(ms, path), offsetSeconds, wallDate };
}

// ISO 8601 allows `+05` and `+0530`; Health Connect's parser wants `+05:00`.
function normalizeOffset(zone: string): string {
  if (zone === "Z") return zone;
  const digits = zone.slice(1).replace(":", "");
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || "00"}`;
}

/** A `YYYY-MM-DD` day as written by the provider. */
export function parseDay(value: unknown, path: string): string {
  if (typeof value !== "string" || !DATE.test(value)) reject(`${path} is not a YYYY-MM-DD date`);
  if (!Number.isFinite(Date.parse(`${value}T00:00:00Z`))) reject(`${path} is not a valid date`);
  return value;
}

/** Midnight UTC starting `day`: where a summary that names only its day is placed. */
export function startOfDayUtc(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** Epoch seconds (Withings, Strava webhooks) → epoch ms. */
export function secondsToMs(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value)) reject(`${path} is not epoch seconds`);
  return checkInstant(value * 1000, path);
}

export function checkInstant(ms: number, path: string): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_INSTANT_MS) reject(`${path} is not an instant between 1970 and 9999`);
  return ms;
}

/** The offset (seconds) of an IANA zone at an instant, or `null` for an unknown zone name. */
export function zoneOffsetAt(timeZone: string | null | undefined, ms: number): number | null {
  if (typeof timeZone !== "string" || timeZone.length === 0) return null;
  const zone = parseTimeZone(timeZone);
  return zone === null ? null : zone.offsetAt(ms) * 60;
}

/**
 * The offset between a local wall clock and the UTC instant it shows, rounded to the quarter hour
 * (every real zone offset is a multiple of 15 minutes; device clocks drift by seconds). `null`
 * when the difference is no zone at all.
 */
export function offsetBetween(wallMs: number, utcMs: number): number | null {
  const quarters = Math.round((wallMs - utcMs) / (HOUR_MS / 4));
  const seconds = quarters * 900;
  return Math.abs(seconds) <= 18 * 3600 ? seconds : null;
}

export { localDateOf };
