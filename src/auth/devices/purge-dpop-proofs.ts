/**
 * Daily purge of DPoP `jti` records whose proofs can no longer pass the `iat` window (./dpop.ts):
 * past that instant a replay is refused by its age alone, so the record has done its job.
 * Deletes in chunks so one run stays within D1's per-statement limits however far behind it is.
 */
import { inArray, lt } from "drizzle-orm";
import type { Db } from "../../db/client";
import { getDb } from "../../db/client";
import { dpopProofs } from "../../db/schema";
import type { ScheduledJob } from "../../scheduled/handler";

const CHUNK = 1000;
const MAX_CHUNKS = 200;

export async function purgeExpiredDpopProofs(db: Db, now: Date): Promise<number> {
  let purged = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS; chunk++) {
    const expired = db.select({ key: dpopProofs.key }).from(dpopProofs).where(lt(dpopProofs.expiresAt, now)).limit(CHUNK);
    const deleted = await db.delete(dpopProofs).where(inArray(dpopProofs.key, expired)).returning({ key: dpopProofs.key });
    purged += deleted.length;
    if (deleted.length < CHUNK) break;
  }
  return purged;
}

export const purgeDpopProofsJob: ScheduledJob = {
  name: "dpop_proofs.purge",
  async run(env, scheduledTime) {
    await purgeExpiredDpopProofs(getDb(env.DB), scheduledTime);
  },
};
