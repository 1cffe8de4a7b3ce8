/**
 * The account deletion job (`account.delete` on the SYNC queue). Resumable: `account_deletions.step`
 * records the last step completed, so a retry (the queue's, or the daily sweep's in ./resume.ts)
 * continues after it, and each step is idempotent in case it ran but was not recorded.
 *
 * The job ends with the security chain: every event about the user is erased to salted commitments
 * (src/audit/erase.ts), and one batch appends `account.delete` under the account's pseudonym,
 * deletes the user row and marks the deletion complete. What remains is the pseudonymous record.
 */
import { eq } from "drizzle-orm";
import { eraseSecurityEventsOf } from "../audit/erase";
import type { AuditContext } from "../audit/event";
import { pseudonymOf } from "../audit/pseudonym";
import { appendSecurityEvent } from "../audit/security-events";
import { getConfig } from "../config/config";
import { getDb } from "../db/client";
import { accountDeletions, users } from "../db/schema";
import { log } from "../observability/log";
import type { Job } from "../queues/consumer";
import { type AccountDeleteMessage, accountDeleteMessageSchema, enqueueAccountDeletion } from "./job-message";
import { DELETION_STEPS, LAKE_PARTITIONS_PER_RUN } from "./steps";

/** The erasure of the security chain, then the final batch. */
export const FINAL_STEPS = ["security_events", "finish"] as const;

export interface DeletionRunOptions {
  /** Called before each step by name: tests fail a step here to prove the job resumes. */
  beforeStep?: (step: string) => void | Promise<void>;
  /** Lake partitions per invocation (LAKE_PARTITIONS_PER_RUN by default). */
  lakePartitionsPerRun?: number;
}

/** `continued`: a step stopped at a checkpoint to stay within one invocation's limits; run again. */
export type DeletionRunResult = "completed" | "continued" | "already_completed" | "unknown";

const CHECKPOINT_SEPARATOR = "@";

const JOB_AUDIT: AuditContext = { actor: "system", role: "system", reason: "account deletion", requestId: null, ip: null };

export async function runAccountDeletion(env: Env, userId: string, options: DeletionRunOptions = {}): Promise<DeletionRunResult> {
  const db = getDb(env.DB);
  const pseudonym = await pseudonymOf(getConfig(env).AUDIT_PSEUDONYM_KEY, userId);
  const [deletion] = await db.select().from(accountDeletions).where(eq(accountDeletions.pseudonym, pseudonym)).limit(1);
  if (!deletion) {
    // Only the confirmation ceremony creates the row: a message without one deletes nothing.
    log("warn", "account deletion without a request", { pseudonym });
    return "unknown";
  }
  if (deletion.completedAt !== null) return "already_completed";

  const record = (step: string) => db.update(accountDeletions).set({ step }).where(eq(accountDeletions.pseudonym, pseudonym));
  if (deletion.step !== FINAL_STEPS[0]) {
    // `name@cursor`: that step was interrupted at a checkpoint and continues from it.
    const [recorded = "", cursor] = deletion.step.split(CHECKPOINT_SEPARATOR, 2);
    const recordedIndex = DELETION_STEPS.findIndex((step) => step.name === recorded);
    const first = cursor === undefined ? recordedIndex + 1 : recordedIndex;
    for (const [offset, step] of DELETION_STEPS.slice(first).entries()) {
      await options.beforeStep?.(step.name);
      const outcome = await step.run({
        env,
        db,
        userId,
        audit: JOB_AUDIT,
        resumeFrom: offset === 0 && cursor !== undefined ? cursor : null,
        lakePartitionsPerRun: options.lakePartitionsPerRun ?? LAKE_PARTITIONS_PER_RUN,
        checkpoint: async (at) => {
          await record(`${step.name}${CHECKPOINT_SEPARATOR}${at}`);
        },
      });
      if (outcome === "continued") return "continued";
      await record(step.name);
      log("info", "account deletion step done", { pseudonym, step: step.name });
    }
    await options.beforeStep?.(FINAL_STEPS[0]);
    const { legacy } = await eraseSecurityEventsOf(db, userId);
    if (legacy > 0) log("warn", "security events older than commitments kept", { pseudonym, events: legacy });
    await record(FINAL_STEPS[0]);
  }

  await options.beforeStep?.(FINAL_STEPS[1]);
  const now = new Date();
  await appendSecurityEvent(
    db,
    {
      actor: pseudonym,
      role: "system",
      action: "account.delete",
      resource: `account:${pseudonym}`,
      subject: pseudonym,
      reason: null,
      result: "success",
      requestId: null,
      ip: null,
    },
    [
      db.delete(users).where(eq(users.id, userId)),
      db.update(accountDeletions).set({ step: "done", completedAt: now }).where(eq(accountDeletions.pseudonym, pseudonym)),
    ],
  );
  // An event about the account chained while the last page was erased (a late refusal of its token).
  await eraseSecurityEventsOf(db, userId);
  log("info", "account deleted", { pseudonym });
  return "completed";
}

export const accountDeleteJob: Job<AccountDeleteMessage> = {
  schema: accountDeleteMessageSchema,
  async run(body, context) {
    // A long step goes on in a fresh invocation (and a fresh subrequest budget), like a long upload.
    if ((await runAccountDeletion(context.env, body.userId)) === "continued")
      await enqueueAccountDeletion(context.env, body.userId);
  },
};
