/**
 * Daily sweep: a deletion whose job never ran to the end (its message was lost, or dead-lettered
 * after every retry) is queued again. A deleted account keeps its user row, with `deleted_at` set,
 * until the job's last step, so the rows left are exactly the deletions still to finish.
 */
import { and, isNotNull, lt } from "drizzle-orm";
import { getDb } from "../db/client";
import { users } from "../db/schema";
import type { ScheduledJob } from "../scheduled/handler";
import { enqueueAccountDeletion } from "./job-message";

/** A job queued less than this long ago may still be running or retrying; leave it alone. */
const GRACE_MS = 60 * 60 * 1000;
const MAX_PER_RUN = 100;

export const resumeAccountDeletionsJob: ScheduledJob = {
  name: "account-deletions-resume",
  async run(env, scheduledTime) {
    const stalled = await getDb(env.DB)
      .select({ id: users.id })
      .from(users)
      .where(and(isNotNull(users.deletedAt), lt(users.deletedAt, new Date(scheduledTime.getTime() - GRACE_MS))))
      .limit(MAX_PER_RUN);
    for (const { id } of stalled) await enqueueAccountDeletion(env, id);
  },
};
