/**
 * Gives accounts created before username skeletons existed (migration 0003) their skeleton, oldest
 * first, so the older of two confusable accounts keeps its name's skeleton.
 *
 * A legacy row whose name still validates and whose skeleton is free gets that skeleton. A row
 * whose name no longer validates (spaces, symbols, mixed scripts, invisible characters) or whose
 * skeleton an older account already holds gets `legacy:<id>`: unique, so it blocks no one, and it
 * marks the account for a rename. Such an account keeps working — passkey sign-in never needs the
 * name, and recovery still finds it by its stored name — but from then on nobody can register a
 * name confusable with the older account's. The stored username itself is never rewritten: people
 * and clients know it as it is.
 */
import { asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { getDb } from "../db/client";
import { isConstraintViolation } from "../db/errors";
import { users } from "../db/schema";
import { enforceUsername } from "../identifiers/precis";
import { skeleton } from "../identifiers/skeleton";

export const LEGACY_SKELETON_PREFIX = "legacy:";
const BATCH = 200;

/** Backfills up to `limit` rows; returns how many got a skeleton and how many were flagged. */
export async function backfillUsernameSkeletons(db: Db, limit = 1000): Promise<{ assigned: number; flagged: number }> {
  let assigned = 0;
  let flagged = 0;
  while (assigned + flagged < limit) {
    const rows = await db
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(isNull(users.usernameSkeleton))
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(Math.min(BATCH, limit - assigned - flagged));
    if (rows.length === 0) break;
    for (const row of rows) {
      const enforced = enforceUsername(row.username);
      const candidate = enforced.ok ? skeleton(enforced.value) : undefined;
      const taken =
        candidate === undefined ||
        (await db.select({ id: users.id }).from(users).where(eq(users.usernameSkeleton, candidate)).limit(1)).length > 0;
      const legacy = `${LEGACY_SKELETON_PREFIX}${row.id}`;
      if (taken) {
        await db.update(users).set({ usernameSkeleton: legacy }).where(eq(users.id, row.id));
        flagged++;
        continue;
      }
      try {
        await db.update(users).set({ usernameSkeleton: candidate }).where(eq(users.id, row.id));
        assigned++;
      } catch (error) {
        // A registration took the skeleton since the check: it is newer, but it now owns the name.
        if (!isConstraintViolation(error, /username_skeleton/)) throw error;
        await db.update(users).set({ usernameSkeleton: legacy }).where(eq(users.id, row.id));
        flagged++;
      }
    }
  }
  return { assigned, flagged };
}

/** Hourly until every legacy row has a skeleton; then each run is one empty query. */
export const backfillUsernameSkeletonsJob = {
  name: "backfill-username-skeletons",
  run: async (env: Env) => {
    await backfillUsernameSkeletons(getDb(env.DB));
  },
};
