/**
 * Sync checkpoints (`connections.sync_checkpoint`): where each range being synced resumes. The
 * column holds one entry per range, keyed `<since>/<until>` (ISO instants), whose value is the
 * driver's `next` cursor after the last page stored. Keyed per range so a webhook-driven sync of
 * yesterday does not erase the place of a 90-day backfill running beside it.
 *
 * Written with SQLite's `json_set` / `json_remove` in the UPDATE itself, so two jobs of the same
 * connection never lose each other's entries to a read-modify-write race. A crash or a retry
 * resumes at the stored cursor and re-fetches at most the one page that was in flight; storing
 * that page again is harmless (stable source record ids make it duplicates).
 */
import { and, eq, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client";
import { type ConnectionRow, connections } from "../../db/schema";
import type { SyncCursor, TimeRange } from "../driver";

const cursorSchema = z.object({
  windowStart: z.string(),
  pageToken: z.string().nullable(),
  dataType: z.string().nullable(),
});

export function checkpointKey(range: TimeRange): string {
  return `${range.since.toISOString()}/${range.until.toISOString()}`;
}

/** JSON path of one range's entry: the key quoted, since it holds `.`, `:` and `/`. */
export function checkpointPath(key: string): string {
  return `$."${key}"`;
}

/** The cursor to resume `key` at, or null to start from the beginning of the range. */
export function readCheckpoint(row: ConnectionRow, key: string): SyncCursor | null {
  const entry = row.syncCheckpoint?.[key];
  const parsed = cursorSchema.safeParse(entry);
  return parsed.success ? parsed.data : null;
}

export async function saveCheckpoint(db: Db, row: ConnectionRow, key: string, cursor: SyncCursor): Promise<void> {
  const value = JSON.stringify({ windowStart: cursor.windowStart, pageToken: cursor.pageToken, dataType: cursor.dataType });
  await db
    .update(connections)
    .set({
      syncCheckpoint: sql`json_set(coalesce(${connections.syncCheckpoint}, '{}'), ${checkpointPath(key)}, json(${value}))`,
    })
    .where(and(eq(connections.id, row.id), eq(connections.userId, row.userId), ne(connections.status, "revoked")));
}
