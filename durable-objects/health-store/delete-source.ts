import { z } from "zod";
import { RollupChanges } from "./rollups";
import { SOURCE_KINDS } from "./schema";

/**
 * Deletes everything one source wrote into this store: the observations of its records (and the
 * records), its sleep sessions with their stages, and its workouts. Used when a person disconnects
 * a provider and asks for its data to go (DESIGN §7, docs/providers.md "Connecting").
 *
 * The quarter-hour rollups (./rollups.ts) are kept exact the way ingestion keeps them after a
 * replacement: the slots the deleted samples touched are marked and recomputed from the samples
 * that remain, in the same transaction, so hour/day buckets and daily summaries stop counting the
 * deleted data at once. Daily summaries and session lists read the tables directly.
 */
export const sourceSelectorSchema = z.strictObject({
  sourceKind: z.enum(SOURCE_KINDS),
  sourceApp: z.string().min(1).max(256),
});
export type SourceSelector = z.infer<typeof sourceSelectorSchema>;

export interface DeletedSource {
  observations: number;
  sleepSessions: number;
  workouts: number;
}

export function deleteSource(sql: SqlStorage, source: SourceSelector): DeletedSource {
  const { sourceKind, sourceApp } = source;
  const records = "SELECT id FROM observation_records WHERE source_kind = ? AND source_app = ?";
  const spans = sql
    .exec<{ metric: string; first: number; last: number; n: number }>(
      `SELECT metric, MIN(start_ms) AS first, MAX(start_ms) AS last, COUNT(*) AS n
       FROM observations WHERE record_id IN (${records}) GROUP BY metric`,
      sourceKind,
      sourceApp,
    )
    .toArray();
  sql.exec(`DELETE FROM observations WHERE record_id IN (${records})`, sourceKind, sourceApp);
  sql.exec("DELETE FROM observation_records WHERE source_kind = ? AND source_app = ?", sourceKind, sourceApp);
  const rollups = new RollupChanges();
  for (const span of spans) rollups.mark(span.metric, span.first, span.last);
  rollups.apply(sql);

  const sessions = "SELECT id FROM sleep_sessions WHERE source_kind = ? AND source_app = ?";
  const sleepSessions = count(sql, `SELECT COUNT(*) AS n FROM (${sessions})`, sourceKind, sourceApp);
  sql.exec(`DELETE FROM sleep_stages WHERE session_id IN (${sessions})`, sourceKind, sourceApp);
  sql.exec("DELETE FROM sleep_sessions WHERE source_kind = ? AND source_app = ?", sourceKind, sourceApp);
  const workouts = count(
    sql,
    "SELECT COUNT(*) AS n FROM workouts WHERE source_kind = ? AND source_app = ?",
    sourceKind,
    sourceApp,
  );
  sql.exec("DELETE FROM workouts WHERE source_kind = ? AND source_app = ?", sourceKind, sourceApp);

  return { observations: spans.reduce((sum, span) => sum + span.n, 0), sleepSessions, workouts };
}

function count(sql: SqlStorage, query: string, ...bindings: string[]): number {
  return sql.exec<{ n: number }>(query, ...bindings).one().n;
}
