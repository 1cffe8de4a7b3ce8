/**
 * Local calendar days in the asker's time zone: "today", "yesterday", "on Monday" and "my week"
 * are days on the person's wall clock, not UTC days. The enclave imports nothing of the Worker, so
 * this resolves zones itself with Intl (Node's full ICU inside the enclave; workerd's Intl on the
 * Worker's side, which selects the data with the same functions). Accepts what the API's `tz`
 * accepts: an IANA name, a ±HH:MM offset, `UTC`.
 */
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const FIXED = /^([+-])(\d{2}):([0-5]\d)$/;

export interface LocalZone {
  /** As given (`Europe/Paris`, `+05:30`, `UTC`). */
  name: string;
  /** Minutes east of UTC at the instant. */
  offsetAt(utcMs: number): number;
}

export const UTC_ZONE: LocalZone = { name: "UTC", offsetAt: () => 0 };

const zones = new Map<string, LocalZone>();

/** The zone `name` names; UTC for an absent or unknown name (the protocol validates names first). */
export function zoneOf(name: string | undefined): LocalZone {
  if (name === undefined || name === "UTC" || name === "Z") return UTC_ZONE;
  const known = zones.get(name);
  if (known !== undefined) return known;
  const zone = fixedZone(name) ?? ianaZone(name) ?? UTC_ZONE;
  // A handful of zones per process; bounded anyway, since names come from requests.
  if (zones.size < 256) zones.set(name, zone);
  return zone;
}

function fixedZone(name: string): LocalZone | null {
  const match = FIXED.exec(name);
  if (match === null) return null;
  const minutes = (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
  return { name, offsetAt: () => minutes };
}

function ianaZone(name: string): LocalZone | null {
  let format: Intl.DateTimeFormat;
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
    return null;
  }
  return {
    name,
    offsetAt(utcMs) {
      const parts: Record<string, number> = {};
      for (const part of format.formatToParts(utcMs)) if (part.type !== "literal") parts[part.type] = Number(part.value);
      const local = Date.UTC(
        parts.year ?? 1970,
        (parts.month ?? 1) - 1,
        parts.day ?? 1,
        parts.hour ?? 0,
        parts.minute ?? 0,
        parts.second ?? 0,
      );
      return Math.round((local - Math.floor(utcMs / 1000) * 1000) / MINUTE_MS);
    },
  };
}

/** The local calendar day of an instant, as whole days since 1970-01-01 on the local calendar. */
export function localDayOf(utcMs: number, zone: LocalZone): number {
  return Math.floor((utcMs + zone.offsetAt(utcMs) * MINUTE_MS) / DAY_MS);
}

/**
 * The first instant of local day `day`: local midnight, or the first instant after a gap where a
 * DST change skips midnight (the day then starts at 01:00).
 */
export function startOfLocalDay(day: number, zone: LocalZone): number {
  const local = day * DAY_MS;
  let utc = local - zone.offsetAt(local - zone.offsetAt(local) * MINUTE_MS) * MINUTE_MS;
  const seen = utc + zone.offsetAt(utc) * MINUTE_MS;
  if (seen !== local) {
    // Midnight fell in a gap, or the first guess used the wrong side's offset: move to the day's first instant.
    if (seen < local) utc += local - seen;
    while (localDayOf(utc - MINUTE_MS, zone) >= day) utc -= MINUTE_MS;
  }
  return utc;
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** 0 = Sunday … 6 = Saturday, of a local day number. */
export function weekdayOf(day: number): number {
  return new Date(day * DAY_MS).getUTCDay();
}

/** `2024-05-14` of a local day number. */
export function isoDateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** "Monday 13 May" of a local day number. */
export function longDateOf(day: number): string {
  const date = new Date(day * DAY_MS);
  return `${WEEKDAYS[date.getUTCDay()]} ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]}`;
}

/** "13 May" of a local day number. */
export function shortDateOf(day: number): string {
  const date = new Date(day * DAY_MS);
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]?.slice(0, 3)}`;
}

/** "2024-05-14 08:00" on the local wall clock, with the zone named unless it is UTC. */
export function formatLocalInstant(utcMs: number, zone: LocalZone): string {
  const local = new Date(utcMs + zone.offsetAt(utcMs) * MINUTE_MS).toISOString().slice(0, 16).replace("T", " ");
  return `${local} ${zone.name === "UTC" ? "UTC" : `(${zone.name})`}`;
}
