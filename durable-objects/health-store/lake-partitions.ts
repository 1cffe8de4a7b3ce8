/**
 * Which lake partitions hold this user's data (src/lake/writer.ts writes parts under
 * `lake/{metric}/{yyyy}/{mm}/{dd}/{userId}/`): the distinct (metric, local date) pairs of what uploads
 * stored here, sleep and workouts under their own "metrics". Account deletion lists exactly those
 * prefixes instead of the whole lake, so it must ask before the store is emptied. Provider data is
 * not written to the lake, so it is not listed.
 */
export interface LakePartition {
  metric: string;
  localDate: string;
}

export function lakePartitions(sql: SqlStorage): LakePartition[] {
  return sql
    .exec<{ metric: string; local_date: string }>(
      `SELECT DISTINCT o.metric AS metric, o.local_date AS local_date
         FROM observations o JOIN observation_records r ON r.id = o.record_id
        WHERE r.source_kind = 'upload'
       UNION SELECT 'sleep', local_date FROM sleep_sessions WHERE source_kind = 'upload'
       UNION SELECT 'workout', local_date FROM workouts WHERE source_kind = 'upload'
       ORDER BY 1, 2`,
    )
    .toArray()
    .map((row) => ({ metric: row.metric, localDate: row.local_date }));
}
