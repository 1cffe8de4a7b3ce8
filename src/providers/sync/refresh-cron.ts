/**
 * The hourly `refreshExpiringProviderTokens` cron job (DESIGN §7): queue a `provider.refresh` for
 * every `active` connection whose access token expires within the next hour (or already has), so
 * tokens are renewed before a sync needs them. The refresh itself runs in the SYNC queue under the
 * connection's lease (./refresh.ts); this job only finds and enqueues.
 *
 * The scan is keyset-paged on `(access_expires_at, id)` through `connections_status_expiry_idx`
 * (`status = 'active' AND access_expires_at <= horizon`, in index order), soonest expiry first, so
 * if a run is ever cut short the most urgent tokens were queued. Each page is one D1 query and one
 * `sendBatch` of at most 100 messages (the Queues batch limit): 100,000 connections are 1,000 pages,
 * 2,000 subrequests and — measured in test/worker/provider-sync-refresh.test.ts — well inside a
 * cron invocation's CPU time. `maxConnections` bounds a run anyway; what it leaves is queued by the
 * next run, and a sync refreshes a token within 5 minutes of expiry itself.
 */
import { and, asc, eq, isNotNull, lte, sql } from "drizzle-orm";
import { getDb } from "../../db/client";
import { connections } from "../../db/schema";
import { log } from "../../observability/log";
import type { ScheduledJob } from "../../scheduled/handler";
import type { ProviderRefreshMessage } from "../messages";
import type { ProviderName } from "../registry";
import { REFRESH_HORIZON_MS } from "./refresh";

/** Queues' `sendBatch` takes at most 100 messages. */
export const REFRESH_SCAN_PAGE = 100;
export const MAX_REFRESHES_PER_RUN = 200_000;

interface ExpiringRow {
  id: string;
  userId: string;
  provider: ProviderName;
  accessExpiresAt: Date | null;
}

export interface RefreshScanOptions {
  pageSize?: number;
  maxConnections?: number;
}

export interface RefreshScanResult {
  enqueued: number;
  pages: number;
  /** True when `maxConnections` stopped the run before the scan was exhausted. */
  truncated: boolean;
}

export async function enqueueExpiringRefreshes(
  env: Env,
  scheduledTime: Date,
  options: RefreshScanOptions = {},
): Promise<RefreshScanResult> {
  const pageSize = Math.min(options.pageSize ?? REFRESH_SCAN_PAGE, REFRESH_SCAN_PAGE);
  const maxConnections = options.maxConnections ?? MAX_REFRESHES_PER_RUN;
  const db = getDb(env.DB);
  const horizon = new Date(scheduledTime.getTime() + REFRESH_HORIZON_MS);
  let after: { expiresAt: number; id: string } | null = null;
  let enqueued = 0;
  let pages = 0;
  let exhausted = false;

  while (enqueued < maxConnections) {
    const limit = Math.min(pageSize, maxConnections - enqueued);
    const rows: ExpiringRow[] = await db
      .select({
        id: connections.id,
        userId: connections.userId,
        provider: connections.provider,
        accessExpiresAt: connections.accessExpiresAt,
      })
      .from(connections)
      .where(
        and(
          eq(connections.status, "active"),
          isNotNull(connections.accessExpiresAt),
          lte(connections.accessExpiresAt, horizon),
          after === null
            ? undefined
            : sql`(${connections.accessExpiresAt}, ${connections.id}) > (${after.expiresAt}, ${after.id})`,
        ),
      )
      .orderBy(asc(connections.accessExpiresAt), asc(connections.id))
      .limit(limit);
    if (rows.length === 0) {
      exhausted = true;
      break;
    }
    const messages = rows.map((row) => {
      const body: ProviderRefreshMessage = {
        type: "provider.refresh",
        connectionId: row.id,
        userId: row.userId,
        provider: row.provider,
      };
      return { body, contentType: "json" as const };
    });
    await env.SYNC.sendBatch(messages);
    enqueued += rows.length;
    pages++;
    const last = rows[rows.length - 1];
    if (rows.length < limit || !last?.accessExpiresAt) {
      exhausted = true;
      break;
    }
    after = { expiresAt: last.accessExpiresAt.getTime(), id: last.id };
  }
  const truncated = !exhausted;
  log(truncated ? "warn" : "info", "provider token refreshes queued", { enqueued, pages, truncated });
  return { enqueued, pages, truncated };
}

export const refreshExpiringProviderTokens: ScheduledJob = {
  name: "refreshExpiringProviderTokens",
  async run(env, scheduledTime) {
    await enqueueExpiringRefreshes(env, scheduledTime);
  },
};
