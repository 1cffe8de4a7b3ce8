/**
 * Exports are kept 7 days (DESIGN §8, docs/exports.md): the daily cron deletes each expired
 * archive from R2, then its record. Until the cron runs, an expired export is already refused for
 * download (./download.ts checks `expires_at`), so the 7 days are exact for the person.
 */
import { and, inArray, lte } from "drizzle-orm";
import { getDb } from "../db/client";
import { exports } from "../db/schema";
import { log } from "../observability/log";
import type { ScheduledJob } from "../scheduled/handler";

/** Rows per round: one R2 bulk delete takes at most 1,000 keys. */
const BATCH = 500;
/** Bounds one run; the next day's run takes the rest. */
const MAX_ROUNDS = 20;

export async function purgeExpiredExports(env: Env, now: Date): Promise<{ deleted: number }> {
  const db = getDb(env.DB);
  let deleted = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const expired = await db
      .select({ id: exports.id, r2Key: exports.r2Key })
      .from(exports)
      .where(lte(exports.expiresAt, now))
      .limit(BATCH);
    if (expired.length === 0) break;
    const keys = expired.flatMap((row) => (row.r2Key === null ? [] : [row.r2Key]));
    // The object first: a row is never gone while its archive is still stored.
    if (keys.length > 0) await env.LAKE.delete(keys);
    await db.delete(exports).where(
      and(
        inArray(
          exports.id,
          expired.map((row) => row.id),
        ),
        lte(exports.expiresAt, now),
      ),
    );
    deleted += expired.length;
    if (expired.length < BATCH) break;
  }
  return { deleted };
}

export const purgeExpiredExportsJob: ScheduledJob = {
  name: "purgeExpiredExports",
  async run(env, scheduledTime) {
    const result = await purgeExpiredExports(env, scheduledTime);
    if (result.deleted > 0) log("info", "expired exports purged", { deleted: result.deleted });
  },
};
