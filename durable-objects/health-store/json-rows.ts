/**
 * Bulk statements whose rows travel as ONE bound parameter: a JSON array of row arrays, read back
 * with `json_each(?)` and `value ->> n`. Durable Object SQLite accepts at most 100 bound parameters
 * per statement, which at 9-14 columns means 7-11 rows per INSERT; per-statement overhead then
 * dominates (measured in workerd: 100k samples took ~700 ms as 11-row VALUES lists and ~350 ms as
 * 1,000-row JSON arrays). JSON numbers round-trip exactly (JSON.stringify writes the shortest
 * representation, SQLite reads it back to the same double).
 *
 * 1,000 rows of ~100 bytes keep each parameter near 100 kB, far below SQLite's 2 MB value limit.
 */
export const JSON_ROWS_PER_STATEMENT = 1_000;

export type JsonCell = string | number | null;

export function chunked<T>(rows: readonly T[], size = JSON_ROWS_PER_STATEMENT): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}

/** `value ->> 0, value ->> 1, …` for a row of `width` cells. */
export function jsonColumns(width: number): string {
  return Array.from({ length: width }, (_, i) => `value ->> ${i}`).join(", ");
}

/** Rows changed by the last INSERT, UPDATE or DELETE on this connection. */
export function changes(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
}
