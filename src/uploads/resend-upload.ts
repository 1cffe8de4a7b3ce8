/**
 * The same file again from the same user (DESIGN §6: idempotent, same upload id). What the
 * re-sent copy does depends on the upload it matches:
 *  - completed, or unfinished and making progress: nothing; the copy is discarded.
 *  - failed (for any reason): restarted where it stopped (./resume.ts `restartFailed`), so a
 *    person always has a way to retry; a file that failed on its own content fails again the same
 *    way, and says so.
 *  - unfinished with no progress for `RESEND_RESUMES_AFTER_MS` (neither in its D1 row nor in the
 *    chunk progress its HealthStore keeps, ./live-progress.ts): resumed at once, without waiting
 *    for the sweeper.
 * Whenever it restarts or resumes, the upload keeps its stored copy if R2 still has it and adopts
 * the re-sent copy (same bytes: same SHA-256) otherwise, so a lost raw object is healed by
 * re-sending the file.
 */
import type { Db } from "../db/client";
import type { UploadRow } from "../db/schema";
import { errorName, log } from "../observability/log";
import { enqueueIngest } from "./enqueue";
import { uploadProgress } from "./live-progress";
import { claimResume, RESEND_RESUMES_AFTER_MS, replaceRawKey, restartFailed } from "./resume";

export async function resendUpload(
  ctx: { db: Db; env: Env },
  existing: UploadRow,
  resentKey: string,
  requestId: string | null,
  now: Date,
): Promise<UploadRow> {
  // The re-sent copy is in R2 already. Until a write may have pointed the row at it, a failure
  // (the store, R2 or D1 unavailable) deletes it: no row would name it, no retention pass find it.
  const adoption = { started: false };
  try {
    return await resend(ctx, existing, resentKey, requestId, now, adoption);
  } catch (error) {
    if (!adoption.started) {
      await ctx.env.LAKE.delete(resentKey).catch((cleanup: unknown) =>
        log("warn", "re-sent upload copy not deleted", { requestId, uploadId: existing.id, error: errorName(cleanup) }),
      );
    }
    throw error;
  }
}

async function resend(
  ctx: { db: Db; env: Env },
  existing: UploadRow,
  resentKey: string,
  requestId: string | null,
  now: Date,
  adoption: { started: boolean },
): Promise<UploadRow> {
  const stalled =
    (existing.status === "queued" || existing.status === "processing") &&
    now.getTime() - (await lastProgress(ctx.env, existing, now)) >= RESEND_RESUMES_AFTER_MS;
  if (existing.status !== "failed" && !stalled) {
    await ctx.env.LAKE.delete(resentKey);
    logResent(existing, requestId, "unchanged");
    return existing;
  }

  const keepStored = (await ctx.env.LAKE.head(existing.r2Key)) !== null;
  const r2Key = keepStored ? existing.r2Key : resentKey;

  if (existing.status === "failed") {
    adoption.started = r2Key === resentKey;
    const restarted = await restartFailed(ctx.db, existing.id, r2Key, now);
    await discardUnused(ctx, restarted?.r2Key ?? existing.r2Key, existing.r2Key, resentKey);
    if (restarted === null) return existing; // restarted by a concurrent re-send
    await enqueueIngest(ctx, restarted, requestId);
    logResent(restarted, requestId, "restarted");
    return restarted;
  }

  const [resumed] = await claimResume(ctx.db, existing, now, { resetAttempts: true });
  if (resumed === undefined) {
    await ctx.env.LAKE.delete(resentKey);
    return existing; // it moved on, or a concurrent re-send resumed it
  }
  if (!keepStored) {
    adoption.started = true;
    await replaceRawKey(ctx.db, resumed.id, resentKey);
  }
  await discardUnused(ctx, keepStored ? existing.r2Key : resentKey, existing.r2Key, resentKey);
  await enqueueIngest(ctx, resumed, requestId, resumed.resumeAttempts);
  logResent(resumed, requestId, "resumed");
  return { ...resumed, r2Key };
}

/** When the upload last moved: its row, or the last chunk its job wrote, whichever is later. */
async function lastProgress(env: Env, row: UploadRow, now: Date): Promise<number> {
  const since = row.updatedAt.getTime();
  // Recent enough already: the store is not asked.
  if (now.getTime() - since < RESEND_RESUMES_AFTER_MS) return since;
  const progress = (await uploadProgress(env, row.userId, [row.id])).get(row.id);
  return Math.max(since, progress?.updatedAt ?? 0);
}

/** Deletes whichever of the two copies the upload does not point at. */
async function discardUnused(ctx: { env: Env }, used: string, stored: string, resent: string): Promise<void> {
  if (used !== resent) await ctx.env.LAKE.delete(resent);
  else if (stored !== resent) await ctx.env.LAKE.delete(stored);
}

function logResent(row: UploadRow, requestId: string | null, outcome: "unchanged" | "restarted" | "resumed"): void {
  log("info", "upload re-sent", { requestId, userId: row.userId, uploadId: row.id, status: row.status, outcome });
}
