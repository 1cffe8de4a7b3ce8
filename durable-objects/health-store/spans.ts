import type { IngestBatch } from "./batch-schema";

/**
 * The longest duration stored per metric and session kind (store migration v6): kept up to date
 * by every ingestion in its transaction, read by searches that bound a start index from an end
 * bound. The batch's own spans are recorded whether or not its rows were new: a duplicate's span
 * is already covered, so recording it again changes nothing.
 */
export type SpanKind = string | "sleep" | "workout";

export function recordSpans(sql: SqlStorage, batch: IngestBatch): void {
  const longest = new Map<string, number>();
  const note = (kind: string, start: number, end: number) => {
    const span = end - start;
    if (span > (longest.get(kind) ?? -1)) longest.set(kind, span);
  };
  for (const obs of batch.observations) note(obs.metric, obs.start, obs.end);
  for (const session of batch.sleepSessions) note("sleep", session.start, session.end);
  for (const workout of batch.workouts) note("workout", workout.start, workout.end);
  for (const [kind, span] of longest) {
    sql.exec(
      `INSERT INTO longest_spans (kind, span_ms) VALUES (?, ?)
       ON CONFLICT (kind) DO UPDATE SET span_ms = MAX(span_ms, excluded.span_ms)`,
      kind,
      span,
    );
  }
}

/** The longest stored duration of a kind; with none recorded, no bound at all. */
export function longestSpanMs(sql: SqlStorage, kind: SpanKind): number {
  const [row] = sql.exec<{ span_ms: number }>("SELECT span_ms FROM longest_spans WHERE kind = ?", kind).toArray();
  return row?.span_ms ?? Number.MAX_SAFE_INTEGER;
}
