import { z } from "zod";

/**
 * A time zone as the store needs it: the UTC offset before the first change, and every change of
 * offset (DST) after it. The Worker resolves an IANA name with Intl for the span it asks about
 * (src/observations/time-zone.ts); the store has no tz database of its own. Offsets are minutes
 * east of UTC, as ISO 8601 writes them (+01:00 is 60).
 */
const EPOCH_MS_MAX = 253_402_300_799_999;
const offsetMinutes = z
  .number()
  .int()
  .min(-18 * 60)
  .max(18 * 60);

export const zoneSchema = z
  .strictObject({
    offsetMinutes,
    changes: z
      .array(z.strictObject({ at: z.number().int().min(0).max(EPOCH_MS_MAX), offsetMinutes }))
      .max(64)
      .default([]),
  })
  .refine((zone) => zone.changes.every((change, i) => i === 0 || change.at > (zone.changes[i - 1]?.at ?? 0)), {
    path: ["changes"],
    message: "changes must be in increasing order of `at`",
  });
export type ZoneInput = z.input<typeof zoneSchema>;
export type Zone = z.output<typeof zoneSchema>;

export const UTC_ZONE: Zone = { offsetMinutes: 0, changes: [] };

const MINUTE_MS = 60_000;

/** A stretch of time with one offset: UTC instants in [from, to). */
export interface ZoneSegment {
  from: number;
  to: number;
  offsetMs: number;
}

/** Every segment of the zone, from the beginning of time to its end. */
export function zoneSegments(zone: Zone): ZoneSegment[] {
  const segments: ZoneSegment[] = [];
  let from = Number.NEGATIVE_INFINITY;
  let offset = zone.offsetMinutes;
  for (const change of zone.changes) {
    if (change.at > from) segments.push({ from, to: change.at, offsetMs: offset * MINUTE_MS });
    from = change.at;
    offset = change.offsetMinutes;
  }
  segments.push({ from, to: Number.POSITIVE_INFINITY, offsetMs: offset * MINUTE_MS });
  return segments;
}

/** The segments that overlap [since, until), clipped to it. */
export function segmentsBetween(zone: Zone, since: number, until: number): ZoneSegment[] {
  return zoneSegments(zone)
    .map((segment) => ({ from: Math.max(segment.from, since), to: Math.min(segment.to, until), offsetMs: segment.offsetMs }))
    .filter((segment) => segment.from < segment.to);
}

export function offsetMsAt(zone: Zone, utcMs: number): number {
  let offset = zone.offsetMinutes;
  for (const change of zone.changes) {
    if (change.at > utcMs) break;
    offset = change.offsetMinutes;
  }
  return offset * MINUTE_MS;
}

/**
 * The UTC instant at which local wall-clock time `localMs` (a local time written as if it were
 * UTC) occurs. A time that occurs twice (clocks going back) gives its first occurrence; a time
 * skipped by clocks going forward gives the instant of the jump, when the local day or hour
 * actually begins.
 */
export function utcOfLocal(zone: Zone, localMs: number): number {
  const segments = zoneSegments(zone);
  for (const segment of segments) {
    const utc = localMs - segment.offsetMs;
    if (utc >= segment.from && utc < segment.to) return utc;
  }
  for (const segment of segments) {
    if (segment.from + segment.offsetMs > localMs) return segment.from;
  }
  return localMs - offsetMsAt(zone, localMs);
}
