/**
 * The time span of stored data an ingestion removed or moved: a newer version of a source record
 * replaces the older one's samples (or session) wherever they lay, which may be far from the new
 * data. Whatever was computed from the old data (stored narratives) must be found by this span too,
 * not only by the batch's own.
 */
export class TouchedSpan {
  since = Number.POSITIVE_INFINITY;
  until = Number.NEGATIVE_INFINITY;

  /** Adds [start, end], an instant counting as 1 ms. */
  add(start: number, end: number): void {
    if (start < this.since) this.since = start;
    const last = Math.max(end, start + 1);
    if (last > this.until) this.until = last;
  }

  get empty(): boolean {
    return this.since > this.until;
  }
}
