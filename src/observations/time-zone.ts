import { offsetMsAt, utcOfLocal, type Zone } from "../../durable-objects/health-store/zone";

/**
 * The `tz` of a read request: `UTC`, a fixed offset (`+05:30`, `-08:00`), or an IANA name
 * (`Europe/Paris`) resolved with Intl, the only tz database a Worker has. The HealthStore gets the
 * result as offsets for the span it reads (`Zone`: the offset at the start and each DST change in
 * the span), so it buckets days and hours without knowing zone rules.
 */
export interface TimeZone {
  /** The canonical name (`Europe/Paris`, `UTC`, `+05:30`), echoed in responses. */
  name: string;
  /** Minutes east of UTC at `utcMs`. */
  offsetAt(utcMs: number): number;
  /** Offsets over [from, to], with every change of offset inside it. */
  zoneFor(from: number, to: number): Zone;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const FIXED_OFFSET = /^([+-])(\d{2}):(\d{2})$/;
const MAX_OFFSET_MINUTES = 18 * 60;
const EPOCH_MS_MAX = 253_402_300_799_999;

/** The time zone `value` names, or null when it names none. */
export function parseTimeZone(value: string): TimeZone | null {
  if (value === "UTC" || value === "Z") return fixedZone("UTC", 0);
  const fixed = FIXED_OFFSET.exec(value);
  if (fixed) {
    const minutes = (fixed[1] === "-" ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3]));
    if (Number(fixed[3]) >= 60 || Math.abs(minutes) > MAX_OFFSET_MINUTES) return null;
    return fixedZone(minutes === 0 ? "UTC" : value, minutes);
  }
  const format = formatterFor(value);
  return format === null ? null : ianaZone(format);
}

/** The UTC instant of local midnight starting `date` (YYYY-MM-DD) in `zone`. */
export function startOfLocalDate(zone: TimeZone, date: string): number {
  const local = Date.parse(`${date}T00:00:00Z`);
  return utcOfLocal(zone.zoneFor(local - 2 * DAY_MS, local + 2 * DAY_MS), local);
}

/**
 * ISO 8601 with the offset `zone` has at that instant: `2026-01-15T00:00:00.000+01:00`, or `…Z`
 * at UTC. Takes the resolved offsets (`TimeZone#zoneFor`) rather than the named zone: an Intl
 * lookup per instant costs ~10 µs, a few milliseconds for a page of buckets.
 */
export function formatInstant(zone: Zone, utcMs: number): string {
  return instantFormatter(zone)(utcMs);
}

/**
 * `formatInstant` for many instants of one page. `Date#toISOString` costs ~1 µs in workerd, which
 * a page of 720 buckets would pay 1,440 times; this formats each instant once, the date part once
 * per local day, and the time of day with integer arithmetic.
 */
export function instantFormatter(zone: Zone): (utcMs: number) => string {
  const dates = new Map<number, string>();
  // A bucket's end is the next one's start: each instant is formatted once.
  const formatted = new Map<number, string>();
  return (utcMs) => {
    const known = formatted.get(utcMs);
    if (known !== undefined) return known;
    const offsetMs = offsetMsAt(zone, utcMs);
    const local = utcMs + offsetMs;
    const day = Math.floor(local / DAY_MS);
    let date = dates.get(day);
    if (date === undefined) {
      date = new Date(day * DAY_MS).toISOString().slice(0, 11);
      dates.set(day, date);
    }
    const ms = local - day * DAY_MS;
    const time = `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${String(ms % 1000).padStart(3, "0")}`;
    const iso = `${date}${time}${offsetSuffix(offsetMs / MINUTE_MS)}`;
    formatted.set(utcMs, iso);
    return iso;
  };
}

function offsetSuffix(offset: number): string {
  if (offset === 0) return "Z";
  const abs = Math.abs(offset);
  return `${offset < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function fixedZone(name: string, minutes: number): TimeZone {
  return { name, offsetAt: () => minutes, zoneFor: () => ({ offsetMinutes: minutes, changes: [] }) };
}

function ianaZone(format: Intl.DateTimeFormat): TimeZone {
  const offsetAt = (utcMs: number): number => {
    // Whole seconds: the formatter has no milliseconds, and offsets change on second boundaries.
    const instant = Math.floor(utcMs / 1000) * 1000;
    const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((part) => [part.type, Number(part.value)]));
    const local = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return Math.round((local - instant) / MINUTE_MS);
  };
  return {
    name: format.resolvedOptions().timeZone,
    offsetAt,
    zoneFor: (wantedFrom, wantedTo) => {
      // The store holds instants in [0, EPOCH_MS_MAX] only: offsets outside it are never used, and
      // a change outside it would be refused as an argument (a day read near either end asks for
      // a day or two beyond).
      const from = Math.min(Math.max(wantedFrom, 0), EPOCH_MS_MAX);
      const to = Math.min(Math.max(wantedTo, from), EPOCH_MS_MAX);
      // Sampled daily, then bisected to the second: no zone changes its offset twice within a day.
      const changes: Zone["changes"] = [];
      const offsetMinutes = offsetAt(from);
      let previous = { at: from, offset: offsetMinutes };
      for (let at = from + DAY_MS; ; at = Math.min(at + DAY_MS, to)) {
        const offset = offsetAt(at);
        if (offset !== previous.offset) changes.push({ at: changeBetween(offsetAt, previous.at, at), offsetMinutes: offset });
        previous = { at, offset };
        if (at >= to) break;
      }
      return { offsetMinutes, changes };
    },
  };
}

/** The first whole second in (lo, hi] whose offset differs from lo's. */
function changeBetween(offsetAt: (utcMs: number) => number, lo: number, hi: number): number {
  const before = offsetAt(lo);
  let low = Math.floor(lo / 1000);
  let high = Math.ceil(hi / 1000);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (offsetAt(mid * 1000) === before) low = mid;
    else high = mid;
  }
  return high * 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();
const MAX_CACHED_ZONES = 128;

/** One formatter per zone name and isolate: building one costs far more than using it. */
function formatterFor(name: string): Intl.DateTimeFormat | null {
  const known = formatters.get(name);
  if (known !== undefined) return known;
  let format: Intl.DateTimeFormat | null;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch {
    format = null;
  }
  if (formatters.size >= MAX_CACHED_ZONES) formatters.clear();
  formatters.set(name, format);
  return format;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}
