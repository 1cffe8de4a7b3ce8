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
import { type AccountDeleteMessage, accountDeleteMessageSchema } from "./job-message";
import { DELETION_STEPS } from "./steps";

/** The erasure of the security chain, then the final batch. */
export const FINAL_STEPS = ["security_events", "finish"] as const;

export interface DeletionRunOptions {
  /** Called before each step by name: tests fail a step here to prove the job resumes. */
  beforeStep?: (step: string) => void | Promise<void>;
}

export type DeletionRunResult = "completed" | "already_completed" | "unknown";

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
  const done = DELETION_STEPS.findIndex((step) => step.name === deletion.step);
  const ctx = { env, db, userId, audit: JOB_AUDIT };
  if (deletion.step !== FINAL_STEPS[0]) {
    for (const step of DELETION_STEPS.slice(done + 1)) {
      await options.beforeStep?.(step.name);
      await step.run(ctx);
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
    await runAccountDeletion(context.env, body.userId);
  },
};
