/**
 * The WEBHOOKS job `provider.webhook` (DESIGN §7), a whole queue batch at a time: stores a queued delivery once (./events.ts: the
 * ledger row is the dedup decision, so a re-delivery is acked here without being processed twice), then
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
import { accountKey, findLiveConnectionsByProviderUsers, markConnectionStatus } from "../connections";
import { type ProviderSyncMessage, type ProviderWebhookMessage, providerWebhookMessage, type QueuedDelivery } from "../messages";
import type { ProviderName } from "../registry";
import { tokenKeyringFor } from "../tokens";
import {
  forgetWebhookPayload,
  keepDeadLetteredDelivery,
  keepQueuedPayload,
  settleWebhookEvents,
  storeQueuedDeliveries,
  type WebhookEventOutcome,
  type WebhookEventRow,
} from "./events.ts";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** UTC−12 to UTC+14: how far a local day can start or end from the UTC day of an instant. */
const WIDEST_OFFSET_MS = 14 * HOUR_MS;
/** A hint without a range asks for what can have changed lately. */
const DEFAULT_RANGE_MS = 2 * DAY_MS;
/** The widest range one hint may ask for: an unsigned hint must not buy a full-history sync. */
const MAX_RANGE_MS = 31 * DAY_MS;
const MAX_SEND_BATCH = 100;

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

/** One message alone: `processWebhookEvents` with a batch of one. */
export async function processWebhookEvent(
  ctx: ProcessContext,
  message: ProviderWebhookMessage,
  now: Date,
): Promise<ProcessOutcome> {
  const [outcome] = await processWebhookEvents(ctx, [message], now);
  return outcome ?? "skipped";
}

/**
 * Processes a batch of `provider.webhook` messages together, each outcome at its message's index.
 * The work is the same as for one, but each step is done once for the whole batch (measured on the
 * bench, docs/benchmarks.md "Provider webhooks": three D1 round trips per delivery, one message after
 * another, were what kept the job behind the route): one ledger call per shard storing the rows, one
 * D1 query resolving every hinted account, one SYNC `sendBatch`, the payload writes side by side, one
 * ledger call per shard settling the events. No D1 write unless a connection is revoked. Throws if any step fails, having settled nothing that was not also sent and
 * stored; every step is idempotent, so the messages can be processed again (alone or together).
 */
export async function processWebhookEvents(
  ctx: ProcessContext,
  messages: readonly ProviderWebhookMessage[],
  now: Date,
): Promise<ProcessOutcome[]> {
  const rows = await storeQueuedDeliveries(ctx.env, messages, now);
  const outcomes: ProcessOutcome[] = messages.map(() => "skipped");
  const pending: { index: number; event: WebhookEventRow; queued: QueuedDelivery | undefined }[] = [];
  const payloads: (() => Promise<void>)[] = [];
  const seen = new Set<string>();
  messages.forEach((message, index) => {
    const { delivery } = message;
    const event = rows.get(message.webhookEventId);
    // A re-delivery (its first event holds the dedup key), gone (retention, deletion), or the same
    // event twice in one batch.
    if (!event || event.provider !== message.provider || seen.has(event.id)) return;
    seen.add(event.id);
    if (event.status === "received") {
      pending.push({ index, event, queued: delivery });
    } else if (delivery && event.status === "processed") {
      // Already settled: a redelivered message does nothing twice, but finishes a payload write
      // that the first attempt may not have reached.
      payloads.push(() => keepQueuedPayload(ctx.env, event, delivery));
    }
  });

  const accounts = new Map<string, { provider: ProviderName; providerUserId: string }>();
  for (const { event } of pending) {
    for (const hint of event.hints) {
      accounts.set(accountKey(event.provider, hint.providerUserId), {
        provider: event.provider,
        providerUserId: hint.providerUserId,
      });
    }
  }
  const live = await findLiveConnectionsByProviderUsers(ctx.db, [...accounts.values()]);

  const syncs: ProviderSyncMessage[] = [];
  const settled: (WebhookEventOutcome & { id: string })[] = [];
  const revoked = new Set<string>();
  const dropped = new Map<string, { provider: ProviderName; eventType: string; count: number }>();
  for (const { index, event, queued } of pending) {
    const resolved: ConnectionRow[] = [];
    for (const [providerUserId, hints] of byAccount(event.hints)) {
      const connection = live.get(accountKey(event.provider, providerUserId));
      if (!connection) continue;
      const deauthorized = hints.some((hint) => hint.operation === "deauthorize");
      if (deauthorized && event.authenticity !== "unsigned-hint") {
        if (!revoked.has(connection.id)) await revoke(ctx, connection);
        revoked.add(connection.id);
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
    const first = resolved[0];
    if (!first) {
      const kind = `${event.provider} ${event.eventType}`;
      dropped.set(kind, { provider: event.provider, eventType: event.eventType, count: (dropped.get(kind)?.count ?? 0) + 1 });
      // A queued delivery's payload was never written; a stored one goes before the row settles.
      if (!queued) payloads.push(() => forgetWebhookPayload(ctx.env, event));
      settled.push({ id: event.id, status: "dropped" });
      outcomes[index] = "dropped";
    } else {
      if (queued) payloads.push(() => keepQueuedPayload(ctx.env, event, queued));
      settled.push({ id: event.id, status: "processed", userId: first.userId, connectionId: first.id });
      outcomes[index] = "processed";
    }
  }
  // Queues takes at most 100 messages per sendBatch (https://developers.cloudflare.com/queues/platform/limits/).
  for (let start = 0; start < syncs.length; start += MAX_SEND_BATCH) {
    await ctx.env.SYNC.sendBatch(
      syncs.slice(start, start + MAX_SEND_BATCH).map((body) => ({ body, contentType: "json" as const })),
    );
  }
  // Every payload written (or forgotten) before any event settles: a failure leaves them `received`.
  await Promise.all(payloads.map((write) => write()));
  await settleWebhookEvents(ctx.env, settled, now);
  // One line per kind of event and batch, not per event: at a provider's burst rate the log
  // pipeline was the largest share of the Worker's CPU (docs/benchmarks.md).
  for (const fields of dropped.values()) log("info", "webhook events dropped: no live connection", fields);
  return outcomes;
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
    logDuplicates([body], [await processWebhookEvent({ db: getDb(env.DB), env }, body, new Date())]);
  },
  async runBatch(bodies, { env }) {
    logDuplicates(bodies, await processWebhookEvents({ db: getDb(env.DB), env }, bodies, new Date()));
  },
};

function logDuplicates(bodies: readonly ProviderWebhookMessage[], outcomes: readonly ProcessOutcome[]): void {
  bodies.forEach((body, index) => {
    if (outcomes[index] === "skipped" && body.delivery)
      log("info", "duplicate webhook delivery acknowledged", { provider: body.provider });
  });
}

/** A `provider.webhook` message in the dead-letter queue: its delivery is kept for the sweep. */
export async function keepDeadLetteredWebhook(env: Env, body: unknown): Promise<void> {
  const message = providerWebhookMessage.safeParse(body);
  if (message.success) await keepDeadLetteredDelivery(env, message.data);
}
