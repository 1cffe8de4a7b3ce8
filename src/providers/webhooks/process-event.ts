/**
 * The INGEST job `provider.webhook` (DESIGN §7): stores a queued delivery once (./events.ts: the
 * row is the dedup decision, so a re-delivery is acked here without being processed twice), then
 * turns the stored delivery into work. Each hinted
 * provider account is resolved to its live connection; a data change becomes one `provider.sync`
 * (reason `webhook`) on the SYNC queue over the hinted range, widened to whole local days; a signed
 * deauthorization revokes the connection. Values are never read from a payload, signed or not: the
 * sync re-fetches them with the user's token. Logs name the provider and event type, never the
 * payload or a provider account.
 *
 * An unsigned deauthorization (Strava, Withings `unlink`) is not trusted to revoke: anyone who knows
 * the callback URL could send one and disconnect someone else. It becomes a sync instead, which the
 * provider refuses if the person really withdrew access, and the sync job then marks the connection
 * for reconnection.
 */
import type { AuditContext } from "../../audit/event";
import { getConfig } from "../../config/config";
import { type Db, getDb } from "../../db/client";
import type { ConnectionRow, StoredHint } from "../../db/schema";
import { log } from "../../observability/log";
import type { Job } from "../../queues/consumer";
import { findLiveConnectionByProviderUser, markConnectionStatus } from "../connections";
import { type ProviderSyncMessage, type ProviderWebhookMessage, providerWebhookMessage } from "../messages";
import { tokenKeyringFor } from "../tokens";
import {
  forgetWebhookPayload,
  keepDeadLetteredDelivery,
  keepQueuedPayload,
  loadWebhookEvent,
  settleWebhookEvent,
  storeQueuedDelivery,
} from "./events.ts";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** UTC−12 to UTC+14: how far a local day can start or end from the UTC day of an instant. */
const WIDEST_OFFSET_MS = 14 * HOUR_MS;
/** A hint without a range asks for what can have changed lately. */
const DEFAULT_RANGE_MS = 2 * DAY_MS;
/** The widest range one hint may ask for: an unsigned hint must not buy a full-history sync. */
const MAX_RANGE_MS = 31 * DAY_MS;

export interface ProcessContext {
  db: Db;
  env: Env;
}

export type ProcessOutcome = "processed" | "dropped" | "skipped";

const SYSTEM: AuditContext = {
  actor: "system:webhooks",
  role: "system",
  reason: "The provider reported that the person withdrew Pulse's access.",
  requestId: null,
  ip: null,
};

export async function processWebhookEvent(
  ctx: ProcessContext,
  message: ProviderWebhookMessage,
  now: Date,
): Promise<ProcessOutcome> {
  const queued = message.delivery;
  const stored = queued
    ? await storeQueuedDelivery(ctx, { ...message, delivery: queued }, now)
    : await loadWebhookEvent(ctx.db, message.webhookEventId);
  // A re-delivery (its first event holds the dedup key), or gone (retention, deletion).
  if (stored === null || stored === "duplicate" || stored === "gone") return "skipped";
  const event = stored;
  if (event.provider !== message.provider) return "skipped";
  if (event.status !== "received") {
    // Already settled: a redelivered message does nothing twice, but finishes a payload write
    // that the first attempt may not have reached.
    if (queued && event.status === "processed") await keepQueuedPayload(ctx.env, event, queued);
    return "skipped";
  }

  const syncs: ProviderSyncMessage[] = [];
  const resolved: ConnectionRow[] = [];
  for (const [providerUserId, hints] of byAccount(event.hints)) {
    const connection = await findLiveConnectionByProviderUser(ctx.db, event.provider, providerUserId);
    if (!connection) continue;
    const deauthorized = hints.some((hint) => hint.operation === "deauthorize");
    if (deauthorized && event.authenticity !== "unsigned-hint") {
      await revoke(ctx, connection);
      resolved.push(connection);
      continue;
    }
    // A connection waiting for the person to reconnect has no usable token to sync with.
    if (connection.status === "reauth_required") continue;
    const range = deauthorized ? null : syncRange(hints, now);
    syncs.push({
      type: "provider.sync",
      connectionId: connection.id,
      userId: connection.userId,
      provider: connection.provider,
      since: (range?.since ?? new Date(now.getTime() - DEFAULT_RANGE_MS)).toISOString(),
      until: (range?.until ?? now).toISOString(),
      reason: "webhook",
    });
    resolved.push(connection);
  }
  if (syncs.length > 0) {
    await ctx.env.SYNC.sendBatch(syncs.map((body) => ({ body, contentType: "json" as const })));
  }
  const first = resolved[0];
  if (!first) {
    log("info", "webhook event dropped: no live connection", { provider: event.provider, eventType: event.eventType });
    // A queued delivery's payload was never written; a stored one goes.
    if (!queued) await forgetWebhookPayload(ctx.env, event);
    await settleWebhookEvent(ctx.db, event.id, { status: "dropped" }, now);
    return "dropped";
  }
  if (queued) await keepQueuedPayload(ctx.env, event, queued);
  await settleWebhookEvent(ctx.db, event.id, { status: "processed", userId: first.userId, connectionId: first.id }, now);
  return "processed";
}

function byAccount(hints: readonly StoredHint[]): Map<string, StoredHint[]> {
  const accounts = new Map<string, StoredHint[]>();
  for (const hint of hints) accounts.set(hint.providerUserId, [...(accounts.get(hint.providerUserId) ?? []), hint]);
  return accounts;
}

async function revoke(ctx: ProcessContext, connection: ConnectionRow): Promise<void> {
  const keyring = await tokenKeyringFor(getConfig(ctx.env));
  await markConnectionStatus({ db: ctx.db, keyring }, connection.userId, connection.provider, { status: "revoked" }, SYSTEM);
  log("info", "connection revoked by the provider", { provider: connection.provider });
}

/**
 * The range to re-fetch for one account's hints: from the first instant or day they name to the
 * last, widened to every local day those can fall on (the person's zone is not known here, so by
 * the widest offsets), plus one whole day either side for data the provider files under a
 * neighbouring day (a night ending after midnight). Null when the hints name no time.
 */
export function syncRange(hints: readonly StoredHint[], now: Date): { since: Date; until: Date } | null {
  const starts: number[] = [];
  const ends: number[] = [];
  for (const hint of hints) {
    const start = instant(hint.start) ?? day(hint.date);
    const end = instant(hint.end) ?? nextDay(hint.endDate ?? hint.date) ?? start;
    if (start !== undefined) starts.push(start);
    if (end !== undefined) ends.push(end);
  }
  if (starts.length === 0 && ends.length === 0) return null;
  const first = Math.min(...(starts.length > 0 ? starts : ends));
  const last = Math.max(...(ends.length > 0 ? ends : starts));
  const since = utcDayStart(first - WIDEST_OFFSET_MS) - DAY_MS;
  let until = utcDayStart(last + WIDEST_OFFSET_MS) + 2 * DAY_MS;
  until = Math.min(until, now.getTime());
  if (until <= since) return null;
  return { since: new Date(Math.max(since, until - MAX_RANGE_MS)), until: new Date(until) };
}

function instant(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function day(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value) ? instant(`${value}T00:00:00Z`) : undefined;
}

function nextDay(value: string | undefined): number | undefined {
  const start = day(value);
  return start === undefined ? undefined : start + DAY_MS;
}

function utcDayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export const providerWebhookJob: Job<ProviderWebhookMessage> = {
  schema: providerWebhookMessage,
  async run(body, { env }) {
    const outcome = await processWebhookEvent({ db: getDb(env.DB), env }, body, new Date());
    if (outcome === "skipped" && body.delivery)
      log("info", "duplicate webhook delivery acknowledged", { provider: body.provider });
  },
};

/** A `provider.webhook` message in the dead-letter queue: its delivery is kept for the sweep. */
export async function keepDeadLetteredWebhook(env: Env, body: unknown): Promise<void> {
  const message = providerWebhookMessage.safeParse(body);
  if (message.success) await keepDeadLetteredDelivery(env, message.data);
}
