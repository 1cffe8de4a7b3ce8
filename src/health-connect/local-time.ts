/**
 * Local date attribution (DESIGN §5: every observation carries its zone offset and local date, so
 * daily summaries follow the day the person lived, not the UTC day). Health Connect stores each
 * instant in UTC with the zone offset the device had then, as a `java.time.ZoneOffset` id: "Z",
 * "+02:00", "-05:30" or, rarely, "+01:00:30". A record belongs to the calendar day at
 * (instant + offset), so a run at 23:30 in New York counts for that evening even though it is
 * already tomorrow in UTC.
 */
const MAX_OFFSET_SECONDS = 18 * 3600; // ZoneOffset's own bound.

/**
 * The offset in seconds, or `null` when absent or unreadable: an unknown offset is not a reason to
 * lose a measurement, it only means the day is attributed in UTC.
 */
export function parseZoneOffset(id: unknown): number | null {
  if (typeof id !== "string") return null;
  if (id === "Z") return 0;
  const match = /^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(id);
  if (match === null) return null;
  const [, sign, hours = "0", minutes = "0", seconds = "0"] = match;
  if (Number(minutes) > 59 || Number(seconds) > 59) return null;
  const total = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  if (total > MAX_OFFSET_SECONDS) return null;
  return sign === "-" && total !== 0 ? -total : total;
}

const DAY_MS = 86_400_000;
// Samples come in runs within one day: remember the last day formatted.
let lastDay = Number.NaN;
let lastDate = "";

/** `YYYY-MM-DD` at the given instant in the given offset; UTC when the offset is unknown. */
export function localDateOf(instantMs: number, offsetSeconds: number | null): string {
  const local = instantMs + (offsetSeconds ?? 0) * 1000;
  const day = Math.floor(local / DAY_MS);
  if (day !== lastDay) {
    lastDate = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDate;
}
