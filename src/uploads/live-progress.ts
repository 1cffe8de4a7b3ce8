/**
 * An unfinished upload's counts live in the user's HealthStore, which the ingest job advances chunk
 * by chunk (./progress.ts says why not D1); a completed upload's final counts are in its D1 row.
 * Whoever shows or judges an unfinished upload — the status routes, the stalled-upload sweeper, a
 * re-sent file — reads its progress here.
 */
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { UploadProgress } from "../../durable-objects/health-store/upload-progress";
import type { UploadRow } from "../db/schema";
import { errorName, log } from "../observability/log";

/** The progress of those of one user's uploads that have any. */
export async function uploadProgress(env: Env, userId: string, ids: readonly string[]): Promise<Map<string, UploadProgress>> {
  if (ids.length === 0) return new Map();
  const found = await healthStoreFor(env.HEALTH_STORE, userId).uploadProgress([...ids]);
  return new Map(found.map((progress) => [progress.uploadId, progress]));
}

/** One user's rows with the live counts of those not completed (and their last progress as `updatedAt`). */
export async function withLiveProgress(env: Env, userId: string, rows: UploadRow[]): Promise<UploadRow[]> {
  const live = rows.filter((row) => row.status !== "completed");
  const progress = await uploadProgress(
    env,
    userId,
    live.map((row) => row.id),
  );
  return rows.map((row) => {
    const found = progress.get(row.id);
    return found === undefined || row.status === "completed" ? row : merged(row, found);
  });
}

function merged(row: UploadRow, progress: UploadProgress): UploadRow {
  return {
    ...row,
    chunksDone: progress.chunksDone,
    accepted: progress.accepted,
    duplicate: progress.duplicate,
    flagged: progress.flagged,
    rejected: progress.rejected,
    updatedAt: new Date(Math.max(row.updatedAt.getTime(), progress.updatedAt)),
  };
}

/**
 * Progress of uploads of many users, one store call per user, side by side. A store that does not
 * answer leaves its uploads out of the map and in `unknown`: the caller must not judge them.
 */
export async function progressOfMany(
  env: Env,
  rows: readonly { id: string; userId: string }[],
): Promise<{ progress: Map<string, UploadProgress>; unknown: Set<string> }> {
  const byUser = new Map<string, string[]>();
  for (const row of rows) byUser.set(row.userId, [...(byUser.get(row.userId) ?? []), row.id]);
  const progress = new Map<string, UploadProgress>();
  const unknown = new Set<string>();
  const users = [...byUser];
  const answers = await Promise.allSettled(users.map(([userId, ids]) => uploadProgress(env, userId, ids)));
  answers.forEach((answer, i) => {
    const [userId, ids] = users[i] ?? ["", []];
    if (answer.status === "fulfilled") {
      for (const [id, found] of answer.value) progress.set(id, found);
      return;
    }
    for (const id of ids) unknown.add(id);
    log("warn", "upload progress unavailable", { userId, error: errorName(answer.reason) });
  });
  return { progress, unknown };
}
