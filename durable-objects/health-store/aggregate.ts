import type { Aggregate } from "./read-schema";
import { SLOT_MS } from "./rollups";

/**
 * Count, sum, min and max of a metric's unflagged samples, computed by SQLite: whole quarter hours
 * come from `observation_rollups`, the ragged edges of a span from the samples themselves. Buckets
 * are keyed by their index in local time, `floor((t + offset) / bucketMs)`, which needs the offset
 * to be a multiple of 15 minutes for rollups to apply (every offset in use today is); any other
 * offset reads the samples.
 */
type AggregateRow = { k: number; n: number; s: number; lo: number; hi: number };

// Durable Object SQLite binds every JavaScript number as REAL: the bucket arithmetic casts its
// parameters so that `/` is integer division.

/** Added to `t + offset` so the integer division floors even for instants just after 1970. */
const SHIFT_MS = 2 * 86_400_000;

export function mergeAggregate(into: Aggregate | undefined, part: Aggregate): Aggregate {
  if (into === undefined) return { ...part };
  return {
    count: into.count + part.count,
    sum: into.sum + part.sum,
    min: Math.min(into.min, part.min),
    max: Math.max(into.max, part.max),
  };
}

/** Aggregates of [from, to) per local bucket index (bucketMs a multiple of 15 minutes). */
export function bucketAggregates(
  sql: SqlStorage,
  metric: string,
  span: { from: number; to: number; offsetMs: number; bucketMs: number },
): Map<number, Aggregate> {
  const { from, to, offsetMs, bucketMs } = span;
  const shifted = offsetMs + SHIFT_MS;
  const rows: AggregateRow[] = [];
  const parts = splitSpan(from, to, offsetMs % SLOT_MS === 0);
  for (const [a, b] of parts.raw) {
    rows.push(
      ...sql.exec<AggregateRow>(
        `SELECT (start_ms + CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS k, COUNT(*) AS n, SUM(value) AS s, MIN(value) AS lo, MAX(value) AS hi
         FROM observations WHERE metric = ? AND start_ms >= ? AND start_ms < ? AND flagged = 0 GROUP BY k`,
        shifted,
        bucketMs,
        metric,
        a,
        b,
      ),
    );
  }
  if (parts.slots !== null) {
    rows.push(
      ...sql.exec<AggregateRow>(
        `SELECT (slot * ${SLOT_MS} + CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS k, SUM(sample_count) AS n, SUM(value_sum) AS s, MIN(value_min) AS lo,
                MAX(value_max) AS hi
         FROM observation_rollups WHERE metric = ? AND slot >= ? AND slot < ? GROUP BY k`,
        shifted,
        bucketMs,
        metric,
        parts.slots[0],
        parts.slots[1],
      ),
    );
  }
  const buckets = new Map<number, Aggregate>();
  const shiftBuckets = SHIFT_MS / bucketMs;
  for (const row of rows) {
    const key = row.k - shiftBuckets;
    buckets.set(key, mergeAggregate(buckets.get(key), { count: row.n, sum: row.s, min: row.lo, max: row.hi }));
  }
  return buckets;
}

/** The aggregate of one span as a whole, or null when it holds no unflagged sample. */
export function spanAggregate(sql: SqlStorage, metric: string, from: number, to: number): Aggregate | null {
  let total: Aggregate | undefined;
  const parts = splitSpan(from, to, true);
  for (const [a, b] of parts.raw) {
    const [row] = sql
      .exec<Omit<AggregateRow, "k">>(
        `SELECT COUNT(*) AS n, SUM(value) AS s, MIN(value) AS lo, MAX(value) AS hi
         FROM observations WHERE metric = ? AND start_ms >= ? AND start_ms < ? AND flagged = 0`,
        metric,
        a,
        b,
      )
      .toArray();
    if (row !== undefined && row.n > 0) total = mergeAggregate(total, { count: row.n, sum: row.s, min: row.lo, max: row.hi });
  }
  if (parts.slots !== null) {
    const [row] = sql
      .exec<Omit<AggregateRow, "k">>(
        `SELECT SUM(sample_count) AS n, SUM(value_sum) AS s, MIN(value_min) AS lo, MAX(value_max) AS hi
         FROM observation_rollups WHERE metric = ? AND slot >= ? AND slot < ?`,
        metric,
        parts.slots[0],
        parts.slots[1],
      )
      .toArray();
    if (row !== undefined && row.n > 0) total = mergeAggregate(total, { count: row.n, sum: row.s, min: row.lo, max: row.hi });
  }
  return total ?? null;
}

/** Whole slots in the middle (when allowed), raw sample spans for the rest. */
function splitSpan(from: number, to: number, useSlots: boolean): { raw: [number, number][]; slots: [number, number] | null } {
  const first = Math.ceil(from / SLOT_MS);
  const end = Math.floor(to / SLOT_MS);
  if (!useSlots || first >= end) return { raw: [[from, to]], slots: null };
  const raw: [number, number][] = [];
  if (from < first * SLOT_MS) raw.push([from, first * SLOT_MS]);
  if (end * SLOT_MS < to) raw.push([end * SLOT_MS, to]);
  return { raw, slots: [first, end] };
}
