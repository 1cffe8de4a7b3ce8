import { chunked, jsonColumns } from "./json-rows";

/**
 * Quarter-hour rollups of unflagged samples (`observation_rollups`, migration 2), kept exact inside
 * the ingest transaction:
 *  - a group of samples that was inserted whole adds its count/sum/min/max to its slots, summed in
 *    memory while the rows are built (no extra read of the table);
 *  - slots that lost samples (a record replaced by a newer version) or received only part of a
 *    group (some rows were duplicates) are recomputed from the samples at the end of the batch.
 * Recomputing last makes the order irrelevant: a recomputed slot is exact whatever was added first.
 */
export const SLOT_MS = 900_000;

interface SlotDelta {
  metric: string;
  slot: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** What a batch changes in the rollups, applied once its samples are written. */
export class RollupChanges {
  readonly #deltas = new Map<string, SlotDelta>();
  readonly #repairs = new Map<string, [number, number][]>();

  /** Adds unflagged samples that were all inserted (one metric). */
  add(metric: string, samples: readonly { start: number; value: number }[]): void {
    let delta: SlotDelta | undefined;
    for (const { start, value } of samples) {
      const slot = Math.floor(start / SLOT_MS);
      if (delta?.slot !== slot) {
        const key = `${metric}\n${slot}`;
        delta = this.#deltas.get(key);
        if (delta === undefined) {
          delta = { metric, slot, count: 0, sum: 0, min: value, max: value };
          this.#deltas.set(key, delta);
        }
      }
      delta.count += 1;
      delta.sum += value;
      delta.min = Math.min(delta.min, value);
      delta.max = Math.max(delta.max, value);
    }
  }

  /** Marks the slots of samples starting in [fromMs, toMs] (inclusive) for recomputation. */
  mark(metric: string, fromMs: number, toMs: number): void {
    const ranges = this.#repairs.get(metric) ?? [];
    ranges.push([Math.floor(fromMs / SLOT_MS), Math.floor(toMs / SLOT_MS)]);
    this.#repairs.set(metric, ranges);
  }

  /** Adds the deltas, then recomputes the marked slots from the samples (which makes them exact). */
  apply(sql: SqlStorage): void {
    for (const chunk of chunked([...this.#deltas.values()])) {
      sql.exec(
        `INSERT INTO observation_rollups (metric, slot, sample_count, value_sum, value_min, value_max)
         SELECT ${jsonColumns(6)} FROM json_each(?) WHERE true
         ON CONFLICT (metric, slot) DO UPDATE SET
           sample_count = sample_count + excluded.sample_count,
           value_sum = value_sum + excluded.value_sum,
           value_min = MIN(value_min, excluded.value_min),
           value_max = MAX(value_max, excluded.value_max)`,
        JSON.stringify(chunk.map((d) => [d.metric, d.slot, d.count, d.sum, d.min, d.max])),
      );
    }
    for (const [metric, ranges] of this.#repairs) {
      for (const [first, last] of merged(ranges)) {
        sql.exec("DELETE FROM observation_rollups WHERE metric = ? AND slot BETWEEN ? AND ?", metric, first, last);
        sql.exec(
          `INSERT INTO observation_rollups (metric, slot, sample_count, value_sum, value_min, value_max)
           SELECT metric, start_ms / ${SLOT_MS}, COUNT(*), SUM(value), MIN(value), MAX(value)
           FROM observations WHERE metric = ? AND start_ms >= ? AND start_ms < ? AND flagged = 0
           GROUP BY start_ms / ${SLOT_MS}`,
          metric,
          first * SLOT_MS,
          (last + 1) * SLOT_MS,
        );
      }
    }
    this.#deltas.clear();
    this.#repairs.clear();
  }
}

function merged(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [first, last] of sorted) {
    const previous = out.at(-1);
    if (previous !== undefined && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else out.push([first, last]);
  }
  return out;
}
