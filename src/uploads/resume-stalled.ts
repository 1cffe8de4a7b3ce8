/**
 * The stalled-upload sweeper, a scheduled job (src/scheduled/handler.ts, every 5 minutes).
 * Production queues redeliver what a consumer did not acknowledge, but an upload can still stop
 * with nothing in flight: a continuation or retry that could not be queued, a message lost by a
 * local queue when the dev server was killed, a consumer that died between chunks. The sweeper
 * finds unfinished uploads with no progress for `STALLED_AFTER_MS` and resumes each through the
 * same resumable job (./resume.ts); one that used up `MAX_RESUMES` fails with a reason the person
 * can act on ("send the file again"), which restarts it (./resend-upload.ts).
 *
 * An upload's D1 row is not touched while its job writes chunks (./progress.ts): a long, healthy
 * ingestion looks as old there as a stalled one. So the rows D1 finds old are only candidates; the
 * owners' HealthStores say which of them wrote a chunk within `STALLED_AFTER_MS` (left alone), and
 * which made progress since they were last started or resumed (resumed with the attempt counter
 * back at 1, never failed). An upload whose store does not answer is left for the next run.
 *
 * Bounded work per run: keyset pages of `PAGE_SIZE` uploads by (updated_at, id) — one select, one
 * progress read per user in the page, one D1 batch and one queue `sendBatch` per page — and at
 * most `MAX_PAGES` pages; whatever is left is still stalled at the next run.
 */
import { and, asc, eq, gt, inArray, lt, or } from "drizzle-orm";
import { type Db, getDb } from "../db/client";
import { uploads } from "../db/schema";
import { log } from "../observability/log";
import type { ScheduledJob } from "../scheduled/handler";
import { ingestMessage } from "./enqueue";
import { progressOfMany } from "./live-progress";
import { claimResume, failStalled, MAX_RESUMES, STALLED_AFTER_MS, UNFINISHED } from "./resume";

/** At most 100 messages per `sendBatch` (Cloudflare Queues limits). */
export const PAGE_SIZE = 100;
export const MAX_PAGES = 20;

export interface SweepResult {
  resumed: string[];
  failed: string[];
  /** True when the page budget ran out before the stalled uploads did. */
  more: boolean;
}

export async function resumeStalledUploads(
  ctx: { db: Db; env: Env },
  now: Date,
  budget: { pageSize?: number; maxPages?: number } = {},
): Promise<SweepResult> {
  const pageSize = budget.pageSize ?? PAGE_SIZE;
  const cutoff = new Date(now.getTime() - STALLED_AFTER_MS);
  const result: SweepResult = { resumed: [], failed: [], more: false };
  let after: { updatedAt: Date; id: string } | null = null;

  for (let page = 0; page < (budget.maxPages ?? MAX_PAGES); page++) {
    const rows = await ctx.db
      .select({ id: uploads.id, userId: uploads.userId, updatedAt: uploads.updatedAt, resumeAttempts: uploads.resumeAttempts })
      .from(uploads)
      .where(
        and(
          inArray(uploads.status, [...UNFINISHED]),
          lt(uploads.updatedAt, cutoff),
          after === null
            ? undefined
            : or(gt(uploads.updatedAt, after.updatedAt), and(eq(uploads.updatedAt, after.updatedAt), gt(uploads.id, after.id))),
        ),
      )
      .orderBy(asc(uploads.updatedAt), asc(uploads.id))
      .limit(pageSize);
    if (rows.length === 0) return result;
    const { progress, unknown } = await progressOfMany(ctx.env, rows);
    const claims = [];
    for (const row of rows) {
      const last = progress.get(row.id)?.updatedAt;
      if (unknown.has(row.id) || (last !== undefined && last >= cutoff.getTime())) continue; // running, or not known
      const progressed = last !== undefined && last >= row.updatedAt.getTime();
      if (progressed) claims.push(claimResume(ctx.db, row, now, { resetAttempts: true }));
      else claims.push(row.resumeAttempts >= MAX_RESUMES ? failStalled(ctx.db, row, now) : claimResume(ctx.db, row, now));
    }
    const [head, ...tail] = claims;
    if (head !== undefined) {
      const outcomes = await ctx.db.batch([head, ...tail]);
      const claimed = outcomes.flat();
      const resumed = claimed.filter((row) => row.status !== "failed");
      for (const row of claimed) if (row.status === "failed") result.failed.push(row.id);
      if (resumed.length > 0) {
        // If the queue refuses, the claimed uploads stay unfinished and are stalled again next run.
        await ctx.env.INGEST.sendBatch(
          resumed.map((row) => ({ body: ingestMessage(row, null, row.resumeAttempts), contentType: "json" as const })),
        );
        for (const row of resumed) result.resumed.push(row.id);
      }
    }
    after = rows[rows.length - 1] ?? null;
  }
  result.more = true;
  return result;
}

export const resumeStalledUploadsJob: ScheduledJob = {
  name: "resumeStalledUploads",
  async run(env, scheduledTime) {
    const result = await resumeStalledUploads({ db: getDb(env.DB), env }, scheduledTime);
    if (result.resumed.length + result.failed.length > 0 || result.more) {
      log("info", "stalled uploads swept", { resumed: result.resumed.length, failed: result.failed.length, more: result.more });
    }
  },
};
