/**
 * Keyset pagination over `(created_at, id)`, newest first. The cursor names the last row of a page
 * (`<epochMs>.<id>`), so rows created between two page reads neither repeat nor vanish, and two rows
 * created in the same millisecond are still ordered (by id). Shared by the device and admin lists.
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { DomainError } from "../../errors/domain-error";

export interface Keyset {
  createdAt: number;
  id: string;
}

const CURSOR = /^(\d{1,15})\.([a-z]{3}_[a-z2-7]{26})$/;

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return `${row.createdAt.getTime()}.${row.id}`;
}

/** The position a cursor names; a cursor this API did not issue is a 400 on `cursor`. */
export function decodeCursor(cursor: string | undefined): Keyset | undefined {
  if (cursor === undefined) return undefined;
  const match = CURSOR.exec(cursor);
  if (!match?.[1] || !match[2]) {
    throw new DomainError("VALIDATION_FAILED", "Invalid cursor.", {
      errors: [{ path: "cursor", message: "not a cursor from this list" }],
    });
  }
  return { createdAt: Number(match[1]), id: match[2] };
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
): { rows: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
