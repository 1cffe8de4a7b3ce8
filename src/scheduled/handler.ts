/**
 * Cron triggers (wrangler.toml [triggers]). Each cron expression names a list of jobs; every job
 * runs even if another fails, and failures are logged by name. Domains add their jobs here.
 */

import { sealSecurityChainJob } from "../audit/seal/security";
import { purgeExpiredFlows } from "../auth/passkeys/flows";
import { purgeEndedSessions } from "../auth/purge-sessions";
import { resumeAccountDeletionsJob } from "../deletion/resume";
import { purgeExpiredExportsJob } from "../exports/retention";
import { errorName, log } from "../observability/log";
import { maintainAppSubscriptionsJob } from "../providers/subscriptions";
import { refreshExpiringProviderTokens } from "../providers/sync/refresh-cron";
import { purgeExpiredRawUploadsJob } from "../retention/raw-uploads";
import { resumeStalledUploadsJob } from "../uploads/resume-stalled";
import { backfillUsernameSkeletonsJob } from "../users/usernames";

export interface ScheduledJob {
  name: string;
  run(env: Env, scheduledTime: Date): Promise<void>;
}

export const CRONS = {
  everyFiveMinutes: "*/5 * * * *",
  hourly: "0 * * * *",
  daily: "30 3 * * *",
} as const;

export const defaultSchedule: Readonly<Record<string, readonly ScheduledJob[]>> = {
  // Stored webhook events are not swept or purged here: each WebhookLedger shard does its own from
  // its alarm (durable-objects/webhook-ledger.ts), so no cron run has to reach every shard.
  [CRONS.everyFiveMinutes]: [resumeStalledUploadsJob],
  // The D1 security chain is sealed to R2 hourly (src/audit/seal/security.ts).
  [CRONS.hourly]: [backfillUsernameSkeletonsJob, refreshExpiringProviderTokens, sealSecurityChainJob],
  // Retention: every rule and its job are listed in docs/retention.md.
  [CRONS.daily]: [
    purgeExpiredFlows,
    purgeEndedSessions,
    maintainAppSubscriptionsJob,
    purgeExpiredRawUploadsJob,
    // Account deletions whose job did not finish are queued again (src/deletion/resume.ts).
    resumeAccountDeletionsJob,
    // Export archives and their rows go 7 days after the request (src/exports/retention.ts).
    purgeExpiredExportsJob,
  ],
};

export async function runScheduled(
  cron: string,
  scheduledTime: Date,
  env: Env,
  schedule: Readonly<Record<string, readonly ScheduledJob[]>> = defaultSchedule,
): Promise<{ ran: string[]; failed: string[] }> {
  const jobs = schedule[cron];
  if (!jobs) {
    log("warn", "no jobs for cron", { cron });
    return { ran: [], failed: [] };
  }
  const results = await Promise.allSettled(jobs.map((job) => job.run(env, scheduledTime)));
  const ran: string[] = [];
  const failed: string[] = [];
  results.forEach((result, index) => {
    const name = jobs[index]?.name ?? "(unknown)";
    if (result.status === "fulfilled") ran.push(name);
    else {
      failed.push(name);
      log("error", "scheduled job failed", { cron, job: name, error: errorName(result.reason) });
    }
  });
  log("info", "cron finished", { cron, ran, failed });
  return { ran, failed };
}

export async function handleScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  await runScheduled(controller.cron, new Date(controller.scheduledTime), env);
}
