/**
 * The SYNC queue's `provider.sync` job (DESIGN §7): fetch `[since, until)` of one connection from
 * its provider, page by page, into the person's HealthStore.
 *
 * - The connection is loaded by id and owner; absent, revoked, another provider's, or waiting for
 *   the person to reconnect (`reauth_required`) → nothing is fetched and the message is done.
 * - An access token expiring within `EXPIRY_MARGIN_MS` is refreshed first, through the same locked
 *   refresh as the hourly job (./refresh.ts). A provider answering UNAUTHENTICATED gets one
 *   refresh and one more try; `invalid_grant` then makes the connection `reauth_required`.
 * - Pages are stored together, up to one HealthStore call's worth (`CHUNK_OBSERVATIONS`): a
 *   provider's pages (the sandbox's 2,000 samples, Oura's day of heart rate) are smaller than what
 *   one call takes, and each call pays a Durable Object round trip, a transaction and an audit
 *   event. After each store the driver's `next` cursor is saved as the range's checkpoint
 *   (./checkpoint.ts), so a retry resumes there. A failure (the provider, the budget, the network)
 *   first stores what was fetched before it and saves its checkpoint, so nothing fetched is
 *   fetched twice.
 * - Work per message is bounded (`maxPages`, `maxMillis`): the job then queues the same message
 *   again and returns, and the continuation resumes from the checkpoint. A long backfill neither
 *   exhausts one invocation's subrequests nor holds up the rest of its batch.
 * - Each page first spends one unit of the provider's published request budget (./budget.ts).
 * - Failures are thrown for the queue to retry: a `DomainError` with `retryAfterSeconds` (a
 *   provider's 429) after exactly that delay, anything else with backoff; the last attempt's error
 *   is kept on the connection so the dead-letter handler can say why it gave up (./jobs.ts).
 */
import type { ConnectionRow } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { errorName, log } from "../../observability/log";
import { RetryLater } from "../../queues/retry-later";
import { CHUNK_OBSERVATIONS } from "../../uploads/chunker";
import { connectionTokens } from "../connections";
import type { MappedProviderData, SyncCursor } from "../driver";
import type { ProviderSyncMessage } from "../messages";
import { spendProviderBudget } from "./budget";
import { checkpointKey, readCheckpoint, saveCheckpoint } from "./checkpoint";
import { SYNC_ACTOR, type SyncContext } from "./context";
import { refreshConnection } from "./refresh";
import { type ConnectionError, completeSync, loadConnection, recordAttemptError } from "./status";
import { type StoredCounts, storeMapped } from "./store";

/** Refresh before syncing when the access token has less than this left. */
export const EXPIRY_MARGIN_MS = 5 * 60 * 1000;

export interface SyncLimits {
  /** Pages to store before handing over to a continuation message. */
  maxPages: number;
  /** Wall time after which no further page is started. */
  maxMillis: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = { maxPages: 25, maxMillis: 20_000 };

export type SyncOutcome = "completed" | "continued" | "skipped" | "reauth_required";

export interface SyncResult {
  outcome: SyncOutcome;
  pages: number;
  counts: StoredCounts;
}

export async function syncConnection(
  ctx: SyncContext,
  message: ProviderSyncMessage,
  limits: SyncLimits = DEFAULT_SYNC_LIMITS,
): Promise<SyncResult> {
  const counts: StoredCounts = { accepted: 0, duplicate: 0, flagged: 0, rejected: 0 };
  const result = (outcome: SyncOutcome): SyncResult => ({ outcome, pages: 0, counts });
  const fields = { connectionId: message.connectionId, provider: message.provider, reason: message.reason };

  const row = await loadConnection(ctx.db, message.connectionId, message.userId);
  if (!row || row.status === "revoked" || row.provider !== message.provider) {
    log("info", "provider sync skipped: no live connection", fields);
    return result("skipped");
  }
  if (row.status === "reauth_required") {
    log("info", "provider sync skipped: the connection needs reconnecting", fields);
    return result("reauth_required");
  }
  const range = { since: new Date(message.since), until: new Date(message.until) };
  if (range.until <= range.since) {
    log("warn", "provider sync skipped: empty range", fields);
    return result("skipped");
  }

  try {
    return await walk(ctx, row, message, range, limits, counts);
  } catch (error) {
    if (!(error instanceof RetryLater)) await recordAttemptError(ctx.db, row, attemptError(error));
    log("warn", "provider sync attempt failed", { ...fields, error: errorName(error) });
    throw error;
  }
}

async function walk(
  ctx: SyncContext,
  initial: ConnectionRow,
  message: ProviderSyncMessage,
  range: { since: Date; until: Date },
  limits: SyncLimits,
  counts: StoredCounts,
): Promise<SyncResult> {
  let row = initial;
  const driver = ctx.deps.driverFor(row.provider);
  const context = ctx.deps.driverContext(row.provider);
  const key = checkpointKey(range);
  let cursor = readCheckpoint(row, key);
  let pages = 0;
  const done = (outcome: SyncOutcome): SyncResult => ({ outcome, pages, counts });

  if (row.accessExpiresAt !== null && row.accessExpiresAt.getTime() - ctx.deps.now().getTime() < EXPIRY_MARGIN_MS) {
    const refreshed = await refreshConnection(ctx, row);
    if (refreshed.outcome === "gone") return done("skipped");
    if (refreshed.outcome === "reauth_required") return done("reauth_required");
    row = refreshed.row;
  }
  let { accessToken } = await connectionTokens(ctx.keyring, row);
  let refreshedAfterRefusal = false;
  const started = Date.now();

  let pending: MappedProviderData = emptyMapped();
  let pendingItems = 0;
  let saved = cursor;
  /** Stores what was fetched; false (nothing stored) when the connection was revoked meanwhile. */
  const flush = async (): Promise<boolean> => {
    if (pendingItems > 0 || pending.rejected.length > 0) {
      // The person may have disconnected while these pages were in flight (a backfill runs for
      // minutes): storing them now would put back data a `data=delete` just removed.
      if (!(await stillLive(ctx, row))) {
        log("info", "provider sync stopped: the connection was revoked meanwhile", {
          connectionId: row.id,
          provider: row.provider,
        });
        return false;
      }
      const stored = await storeMapped(ctx.env, { userId: row.userId, provider: row.provider, connectionId: row.id }, pending);
      counts.accepted += stored.accepted;
      counts.duplicate += stored.duplicate;
      counts.flagged += stored.flagged;
      counts.rejected += stored.rejected;
      pending = emptyMapped();
      pendingItems = 0;
    }
    return true;
  };
  const checkpoint = async (): Promise<boolean> => {
    if (!(await flush())) return false;
    if (cursor !== null && cursor !== saved) await saveCheckpoint(ctx.db, row, key, cursor);
    saved = cursor;
    return true;
  };

  for (;;) {
    let page: Awaited<ReturnType<typeof driver.fetchRange>>;
    try {
      await spendProviderBudget(ctx.env, driver.facts, row.id);
      page = await driver.fetchRange(context, accessToken, range, cursor);
    } catch (error) {
      // What was fetched before the failure is kept, so the retry starts after it.
      await checkpoint().catch((failure: unknown) =>
        log("warn", "provider sync: pages fetched before a failure not stored", { error: errorName(failure) }),
      );
      // A token the provider refused before its expiry (revoked and re-issued, clock skew): one
      // refresh, one more try. A second refusal is thrown and retried like any failure.
      if (!(error instanceof DomainError && error.code === "UNAUTHENTICATED") || refreshedAfterRefusal) throw error;
      refreshedAfterRefusal = true;
      const refreshed = await refreshConnection(ctx, row);
      if (refreshed.outcome === "gone") return done("skipped");
      if (refreshed.outcome === "reauth_required") return done("reauth_required");
      row = refreshed.row;
      ({ accessToken } = await connectionTokens(ctx.keyring, row));
      continue;
    }
    // The zone the provider's profile reported at connection time places UTC-only payloads on
    // local days; the mappings prefer the offsets a payload carries (src/providers/README.md "Time").
    pendingItems += append(pending, driver.map(page.records, row.timeZone));
    pages++;

    if (page.next === null) {
      if (!(await flush())) return done("skipped");
      await completeSync(ctx.db, row, key, ctx.deps.now(), SYNC_ACTOR);
      log("info", "provider sync completed", { connectionId: row.id, provider: row.provider, pages, ...counts });
      return done("completed");
    }
    if (sameCursor(page.next, cursor)) {
      // A provider that hands back the page it was asked for would keep this range (and its
      // continuations) fetching forever; fail it so retries end in the dead-letter queue.
      throw new DomainError("PROVIDER_FAILED", `The ${driver.facts.displayName} API returned the same page again.`);
    }
    cursor = page.next;
    const handOver = pages >= limits.maxPages || Date.now() - started >= limits.maxMillis;
    if ((handOver || pendingItems >= CHUNK_OBSERVATIONS) && !(await checkpoint())) return done("skipped");
    if (handOver) {
      await ctx.env.SYNC.send(message, { contentType: "json" });
      log("info", "provider sync continued", { connectionId: row.id, provider: row.provider, pages });
      return done("continued");
    }
  }
}

async function stillLive(ctx: SyncContext, row: ConnectionRow): Promise<boolean> {
  const current = await loadConnection(ctx.db, row.id, row.userId);
  return current !== null && current.status !== "revoked" && current.provider === row.provider;
}

function sameCursor(next: SyncCursor, current: SyncCursor | null): boolean {
  return (
    current !== null &&
    next.windowStart === current.windowStart &&
    next.pageToken === current.pageToken &&
    next.dataType === current.dataType
  );
}

function emptyMapped(): MappedProviderData {
  return { observations: [], sleepSessions: [], workouts: [], rejected: [] };
}

/** Moves `page` into `into` (loops, not spreads: a page of samples is past a spread's argument limit). */
function append(into: MappedProviderData, page: MappedProviderData): number {
  for (const item of page.observations) into.observations.push(item);
  for (const item of page.sleepSessions) into.sleepSessions.push(item);
  for (const item of page.workouts) into.workouts.push(item);
  for (const item of page.rejected) into.rejected.push(item);
  return page.observations.length + page.sleepSessions.length + page.workouts.length;
}

/** What the person sees as the last error: Pulse's own words, never the provider's answer. */
function attemptError(error: unknown): ConnectionError {
  if (error instanceof DomainError) {
    return { code: error.code, message: error.detail ?? "The provider sync failed; it will be retried." };
  }
  return { code: "SYNC_ERROR", message: "The provider sync stopped on an unexpected error; it will be retried." };
}
