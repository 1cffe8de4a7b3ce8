import { lt, or } from "drizzle-orm";
import { getDb } from "../db/client";
import { sessions } from "../db/schema";
import type { ScheduledJob } from "../scheduled/handler";

/** Ended sessions are kept this long (for "where was I signed in" questions), then deleted. */
export const ENDED_SESSION_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Daily retention: deletes sessions that ended more than 30 days ago, with their refresh tokens
 * (ON DELETE CASCADE). Sign-ins and revocations stay in the security audit chain.
 */
export const purgeEndedSessions: ScheduledJob = {
  name: "sessions-purge",
  async run(env, scheduledTime) {
    const cutoff = new Date(scheduledTime.getTime() - ENDED_SESSION_RETENTION_MS);
    await getDb(env.DB)
      .delete(sessions)
      .where(or(lt(sessions.expiresAt, cutoff), lt(sessions.revokedAt, cutoff)));
  },
};
