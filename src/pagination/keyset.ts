/**
 * Keyset pagination of D1 lists over `(created_at, id)`, newest first. The cursor names the last row
 * of a page, so rows created between two page reads neither repeat nor vanish, and two rows created
 * in the same millisecond are still ordered (by id). Cursors are the shared opaque, list-bound
 * ones (./cursor.ts).
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { decodeCursor, encodeCursor, invalidCursor } from "./cursor";

export interface Keyset {
  createdAt: number;
  id: string;
}

/** Which list a cursor belongs to, and the filters it was issued under (a cursor is valid only for both). */
export interface ListBinding {
  list: string;
  filters?: unknown;
}

const ID = /^[a-z]{3}_[a-z2-7]{26}$/;
const MAX_DATE_MS = 8.64e15;

/** The position a cursor names; a cursor this list did not issue is a 400 on `cursor`. */
export function decodeKeyset(cursor: string | undefined, binding: ListBinding): Keyset | undefined {
  const key = decodeCursor(cursor, binding.list, ["int", "string"], binding.filters);
  if (key === undefined) return undefined;
  const [createdAt, id] = key;
  // A position a real row can have: a valid Date (ECMA-262 §21.4.1.1), not a forged one that
  // would turn the page into an empty 200.
  if (!ID.test(id) || createdAt < 0 || createdAt > MAX_DATE_MS) throw invalidCursor();
  return { createdAt, id };
}

/** Rows strictly after the cursor in newest-first order. */
export function afterCursor(columns: { createdAt: SQLiteColumn; id: SQLiteColumn }, after: Keyset | undefined): SQL | undefined {
  if (!after) return undefined;
  const at = new Date(after.createdAt);
  return or(lt(columns.createdAt, at), and(eq(columns.createdAt, at), lt(columns.id, after.id)));
}

export function newestFirst(columns: { createdAt: SQLiteColumn; id: SQLiteColumn }): SQL[] {
  return [desc(columns.createdAt), desc(columns.id)];
}

/** Splits a `limit + 1` read into the page and the cursor of its last row (null on the last page). */
export function pageOf<T extends { createdAt: Date; id: string }>(
  rows: T[],
  limit: number,
  binding: ListBinding,
): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > limit && last ? encodeCursor(binding.list, [last.createdAt.getTime(), last.id], binding.filters) : null;
  return { rows: page, nextCursor };
}
