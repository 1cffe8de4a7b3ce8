import { decodeCursor, encodeCursor } from "../../src/pagination/cursor";
import { bucketAggregates, mergeAggregate } from "./aggregate";
import type { Aggregate, ObservationBucket, ParsedObservationQuery } from "./read-schema";
import type { Page } from "./schema";
import { segmentsBetween, utcOfLocal, type Zone } from "./zone";

/**
 * Hour and day buckets in the caller's time zone. Each stretch of the range with one UTC offset is
 * aggregated on its own (./aggregate.ts) and its buckets placed on the timeline: an hour bucket
 * starts at `k * 1h - offset`; a local day runs from its local midnight to the next, so a DST day
 * lasts 23 or 25 hours and gathers both offsets' samples. Items are ordered by (start, position of
 * the metric in the query); the cursor is that pair for the last item returned.
 */
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

type BucketQuery = ParsedObservationQuery & { resolution: "hour" | "day"; since: number; until: number };

interface Placed extends ObservationBucket {
  position: number;
}

export function queryBuckets(sql: SqlStorage, query: BucketQuery, metrics: readonly string[]): Page<ObservationBucket> {
  const bucketMs = query.resolution === "hour" ? HOUR_MS : DAY_MS;
  // A bucket's position is its metric's index in the request: bound to the metrics and resolution.
  const list = `observations:${query.resolution}`;
  const [afterStart = Number.NEGATIVE_INFINITY, afterPosition = -1] =
    decodeCursor(query.cursor, list, ["int", "int"], [metrics, query.cursorScope ?? null]) ?? [];
  // Buckets before the cursor's are done; the cursor's own is recomputed whole (it starts at or after since).
  const since = Math.max(query.since, afterStart);
  const segments = segmentsBetween(query.zone, since, query.until);
  const placed: Placed[] = [];
  metrics.forEach((metric, position) => {
    const byStart = new Map<number, { start: number; end: number; aggregate: Aggregate }>();
    for (const segment of segments) {
      const span = { from: segment.from, to: segment.to, offsetMs: segment.offsetMs, bucketMs };
      for (const [key, aggregate] of bucketAggregates(sql, metric, span)) {
        const bounds = bucketBounds(query.zone, query.resolution, key, segment.offsetMs);
        const known = byStart.get(bounds.start);
        byStart.set(bounds.start, { ...bounds, aggregate: mergeAggregate(known?.aggregate, aggregate) });
      }
    }
    for (const { start, end, aggregate } of byStart.values()) {
      placed.push({ metric, start, end, ...aggregate, avg: aggregate.sum / aggregate.count, position });
    }
  });
  placed.sort((a, b) => a.start - b.start || a.position - b.position);
  const remaining = placed.filter(
    (bucket) => bucket.start > afterStart || (bucket.start === afterStart && bucket.position > afterPosition),
  );
  const page = remaining.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map(({ position: _position, ...bucket }) => bucket),
    nextCursor:
      remaining.length > query.limit && last !== undefined
        ? encodeCursor(list, [last.start, last.position], [metrics, query.cursorScope ?? null])
        : null,
  };
}

function bucketBounds(zone: Zone, resolution: "hour" | "day", key: number, offsetMs: number): { start: number; end: number } {
  if (resolution === "hour") {
    const start = key * HOUR_MS - offsetMs;
    return { start, end: start + HOUR_MS };
  }
  return { start: utcOfLocal(zone, key * DAY_MS), end: utcOfLocal(zone, (key + 1) * DAY_MS) };
}
