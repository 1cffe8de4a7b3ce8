import { z } from "@hono/zod-openapi";

/**
 * The one range of dates and instants the API accepts, for every route that takes one (the read
 * API's `date`, `since` and `until`, the AI query's `since` and `until`): calendar dates
 * 1970-01-01 to 9999-12-30, instants 1970-01-01T00:00:00Z to 9999-12-30T00:00:00Z.
 *
 * Why these ends: the HealthStore keeps epoch milliseconds from 0 (Unix time; nothing a phone or
 * wearable records is older). Days, hours and buckets are answered with their end, the next local
 * midnight or hour, written as ISO 8601 with the zone's offset (RFC 3339 §5.6: four-digit years);
 * the end of 9999-12-31 is in year 10000, which has no such form. Offsets reach ±18 h, so a day
 * ending by 9999-12-31 local, or a bucket around an instant up to 9999-12-30T00:00Z, is always
 * writable. The route's zod schema refuses anything else, naming the parameter, so the store's own
 * checks (epoch milliseconds, zone offsets) never see it.
 */
export const FIRST_DATE = "1970-01-01";
export const LAST_DATE = "9999-12-30";
export const MIN_INSTANT_MS = 0;
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 30);
export const RANGE_TEXT = `from ${FIRST_DATE} to ${LAST_DATE}`;
const INSTANT_RANGE_TEXT = `between ${FIRST_DATE}T00:00:00Z and ${LAST_DATE}T00:00:00Z`;

const isoDate = z.iso.date();
const isoInstant = z.iso.datetime({ offset: true });

/** A YYYY-MM-DD calendar date inside the supported range. */
export function isSupportedDate(value: string): boolean {
  return isoDate.safeParse(value).success && value >= FIRST_DATE && value <= LAST_DATE;
}

export function isSupportedInstant(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS;
}

/** Why `ms` (the instant a parameter names) is refused, or undefined when it is in range. */
export function instantRangeProblem(ms: number): string | undefined {
  return isSupportedInstant(ms) ? undefined : `must be ${INSTANT_RANGE_TEXT}`;
}

/** A calendar date parameter: `date=2026-01-15`. */
export const dateSchema = z
  .string()
  .refine(isSupportedDate, `must be a calendar date (YYYY-MM-DD) ${RANGE_TEXT}`)
  .openapi({ format: "date", example: "2026-01-15" });

/** An instant with its offset: `2026-01-15T08:00:00+01:00`. */
export const instantSchema = z
  .string()
  .refine((value) => isoInstant.safeParse(value).success, {
    message: "must be an ISO 8601 date-time with offset (2026-01-15T08:00:00Z)",
    abort: true,
  })
  .refine((value) => isSupportedInstant(Date.parse(value)), `must be ${INSTANT_RANGE_TEXT}`)
  .openapi({ format: "date-time", example: "2026-01-15T08:00:00Z" });
