/**
 * Refreshing one connection's access token under its lease (./lease.ts), for the hourly cron's
 * `provider.refresh` job and for a sync whose token is about to expire or was refused.
 *
 * The order matters because providers such as WHOOP rotate the refresh token and reject a used
 * one — presenting it twice kills the grant:
 * 1. take the lease (someone else holds it → `RetryLater`: not a failure, look again shortly);
 * 2. re-read the row under the lease: if its access token changed since the caller read it,
 *    another refresher already did the work, and the caller uses the new token;
 * 3. call the provider with the refresh token read under the lease;
 * 4. store the new tokens (`storeRefreshedTokens` keeps the old refresh token when the provider
 *    returned none) and only then release the lease.
 *
 * `invalid_grant` → `reauth_required` with a `provider.refresh_failed` security event; a transient
 * failure releases the lease and is thrown, so the queue retries with backoff.
 */

import type { ConnectionRow } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { log } from "../../observability/log";
import { RetryLater } from "../../queues/retry-later";
import { connectionTokens, storeRefreshedTokens } from "../connections";
import type { ProviderRefreshMessage } from "../messages";
import { ProviderOAuthError } from "../oauth";
import { REFRESH_ACTOR, type SyncContext } from "./context";
import { acquireRefreshLease, releaseRefreshLease } from "./lease";
import { loadConnection, markReauthRequired, recordAttemptError } from "./status";

/** The hourly job refreshes tokens expiring within the hour: before the next run could. */
export const REFRESH_HORIZON_MS = 60 * 60 * 1000;

/** How long a job waits before looking again when another refresher holds the lease. */
export const LEASE_BUSY_RETRY_SECONDS = 15;

export type RefreshOutcome =
  /** New tokens from the provider are stored. */
  | { outcome: "refreshed"; row: ConnectionRow }
  /** Another refresher stored new tokens meanwhile; `row` holds them. */
  | { outcome: "fresh"; row: ConnectionRow }
  /** The grant is dead: the person must connect again. */
  | { outcome: "reauth_required"; row: ConnectionRow }
  /** The connection was revoked or deleted meanwhile. */
  | { outcome: "gone"; row: null };

export async function refreshConnection(ctx: SyncContext, seen: ConnectionRow): Promise<RefreshOutcome> {
  const lease = await acquireRefreshLease(ctx.db, seen, ctx.deps.now());
  if (!lease) throw new RetryLater("another refresh of this connection is running", LEASE_BUSY_RETRY_SECONDS);
  let released = false;
  try {
    const row = await loadConnection(ctx.db, seen.id, seen.userId);
    if (!row || row.status === "revoked") return { outcome: "gone", row: null };
    if (row.status === "reauth_required") return { outcome: "reauth_required", row };
    const { accessToken, refreshToken } = await connectionTokens(ctx.keyring, row);
    // Compared in plaintext: re-sealing under a new key (token key rotation) is not a refresh.
    if (
      row.accessTokenCiphertext !== seen.accessTokenCiphertext &&
      accessToken !== (await connectionTokens(ctx.keyring, seen)).accessToken
    ) {
      return { outcome: "fresh", row };
    }

    if (refreshToken === null) {
      await markReauthRequired(ctx.db, row, NO_REFRESH_TOKEN, lease, REFRESH_ACTOR);
      released = true;
      return { outcome: "reauth_required", row: { ...row, status: "reauth_required" } };
    }
    const driver = ctx.deps.driverFor(row.provider);
    let tokens: Awaited<ReturnType<typeof driver.refresh>>;
    try {
      tokens = await driver.refresh(ctx.deps.driverContext(row.provider), refreshToken);
    } catch (error) {
      if (error instanceof ProviderOAuthError && error.oauthError === "invalid_grant") {
        await markReauthRequired(ctx.db, row, GRANT_REFUSED, lease, REFRESH_ACTOR);
        released = true;
        log("warn", "provider refused the refresh token", { connectionId: row.id, provider: row.provider });
        return { outcome: "reauth_required", row: { ...row, status: "reauth_required" } };
      }
      throw error;
    }
    await storeRefreshedTokens(ctx, row, tokens);
    const stored = await loadConnection(ctx.db, row.id, row.userId);
    if (!stored || stored.status === "revoked") return { outcome: "gone", row: null };
    log("info", "provider token refreshed", { connectionId: row.id, provider: row.provider });
    return { outcome: "refreshed", row: stored };
  } finally {
    if (!released) await releaseRefreshLease(ctx.db, lease);
  }
}

export type RefreshJobOutcome = RefreshOutcome["outcome"] | "skipped" | "not_due";

/**
 * The `provider.refresh` job: refreshes the connection when its access token expires within
 * `horizonMs` (it may have been refreshed by a sync since the cron queued the message).
 */
export async function refreshIfExpiring(
  ctx: SyncContext,
  message: ProviderRefreshMessage,
  horizonMs: number = REFRESH_HORIZON_MS,
): Promise<RefreshJobOutcome> {
  const fields = { connectionId: message.connectionId, provider: message.provider };
  const row = await loadConnection(ctx.db, message.connectionId, message.userId);
  if (!row || row.status === "revoked" || row.status === "reauth_required" || row.provider !== message.provider) {
    log("info", "provider refresh skipped: no connection to refresh", fields);
    return "skipped";
  }
  if (row.accessExpiresAt === null || row.accessExpiresAt.getTime() > ctx.deps.now().getTime() + horizonMs) return "not_due";
  try {
    return (await refreshConnection(ctx, row)).outcome;
  } catch (error) {
    if (!(error instanceof RetryLater)) {
      await recordAttemptError(ctx.db, row, {
        code: error instanceof DomainError ? error.code : "REFRESH_ERROR",
        message: "Refreshing the provider's access failed; it will be retried.",
      });
    }
    throw error;
  }
}

const GRANT_REFUSED = {
  code: "REFRESH_REJECTED",
  message: "The provider no longer accepts Pulse's access (the grant was revoked or expired); connect it again.",
};

const NO_REFRESH_TOKEN = {
  code: "REFRESH_UNAVAILABLE",
  message: "The access token expired and the provider issued no refresh token; connect it again.",
};
