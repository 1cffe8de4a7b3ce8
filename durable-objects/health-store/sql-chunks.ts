/**
 * Durable Object SQLite accepts at most 100 bound parameters per statement; every multi-row
 * statement is cut into chunks that stay within it.
 */
export const MAX_BOUND_PARAMETERS = 100;

export function chunksFor<T>(items: readonly T[], paramsPerItem: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / paramsPerItem));
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** `(?, ?, ?), (?, ?, ?)` for `rows` tuples of `width` placeholders. */
export function placeholders(rows: number, width: number): string {
  const tuple = `(${Array.from({ length: width }, () => "?").join(", ")})`;
  return Array.from({ length: rows }, () => tuple).join(", ");
}
