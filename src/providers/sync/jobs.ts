/**
 * The SYNC queue's provider jobs, as the queue consumer registers them (src/queues/consumer.ts):
 * `provider.sync` (./sync.ts), `provider.refresh` (./refresh.ts), and what happens when the queue
 * gives up on either. The factories take the driver lookups, so tests run the real consumer with
 * a driver of their own.
 */
import { log } from "../../observability/log";
import type { Job } from "../../queues/consumer";
import { type ProviderRefreshMessage, type ProviderSyncMessage, providerRefreshMessage, providerSyncMessage } from "../messages";
import { checkpointKey } from "./checkpoint";
import { SYNC_ACTOR, type SyncDeps, syncContext } from "./context";
import { refreshIfExpiring } from "./refresh";
import { loadConnection, markSyncFailed } from "./status";
import { DEFAULT_SYNC_LIMITS, type SyncLimits, syncConnection } from "./sync";

export function providerSyncJobFor(
  deps: Partial<SyncDeps> = {},
  limits: SyncLimits = DEFAULT_SYNC_LIMITS,
): Job<ProviderSyncMessage> {
  return {
    schema: providerSyncMessage,
    async run(body, context) {
      await syncConnection(await syncContext(context.env, deps), body, limits);
    },
  };
}

export function providerRefreshJobFor(deps: Partial<SyncDeps> = {}): Job<ProviderRefreshMessage> {
  return {
    schema: providerRefreshMessage,
    async run(body, context) {
      await refreshIfExpiring(await syncContext(context.env, deps), body);
    },
  };
}

export const providerSyncJob = providerSyncJobFor();
export const providerRefreshJob = providerRefreshJobFor();

/**
 * After the last retry of a sync or refresh: the connection becomes `sync_failed`, its message
 * saying what failed and the last attempt's error, so `GET /v1/connections` tells the person why
 * their data stopped arriving. A connection already `reauth_required` or revoked keeps that status
 * (it says more). The next sync or refresh that succeeds makes it `active` again.
 */
export async function failDeadLetteredProviderJob(env: Env, body: unknown): Promise<void> {
  const sync = providerSyncMessage.safeParse(body);
  const refresh = providerRefreshMessage.safeParse(body);
  const message = sync.success ? sync.data : refresh.success ? refresh.data : null;
  if (!message) return;
  const ctx = await syncContext(env);
  const row = await loadConnection(ctx.db, message.connectionId, message.userId);
  if (!row || (row.status !== "active" && row.status !== "sync_failed")) return;
  const what = sync.success ? "Syncing data from the provider" : "Refreshing the provider's access";
  const last = row.lastErrorCode === null ? "" : ` Last error: ${row.lastErrorCode}: ${row.lastErrorMessage ?? ""}`;
  await markSyncFailed(
    ctx.db,
    row,
    { code: "RETRIES_EXHAUSTED", message: `${what} failed after every retry.${last}` },
    { ...SYNC_ACTOR, reason: "retries exhausted" },
    sync.success ? checkpointKey({ since: new Date(sync.data.since), until: new Date(sync.data.until) }) : null,
  );
  log("error", "provider job dead-lettered", { connectionId: row.id, provider: row.provider, lastError: row.lastErrorCode });
}
