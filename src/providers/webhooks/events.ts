/**
 * Where verified webhook deliveries are kept (DESIGN §5, §7): one event row per distinct event in
 * the WebhookLedger Durable Object shard its `(provider, dedupKey)` hashes to (durable-objects/
 * webhook-ledger.ts; the dedup key is unique within a shard, so a shard decides alone), and the raw
 * payload in R2 under `webhooks/{provider}/{yyyy-mm-dd}/{eventId}.json`. Everything that reads or
 * writes them goes through this module. D1 is only read here (which connections a person has);
 * a delivery writes nothing to it: at ten million people and tens of deliveries each a day the rows
 * were thousands of writes a second on D1's single writer (docs/providers.md "Storage" has the
 * arithmetic behind `WEBHOOK_LEDGER_SHARDS` and how to grow it).
 *
 * An event id names its shard (`whe_<random>_<shard>`), so a message that carries only the id (the
 * sweep's, a large payload's) is routed without its dedup key, and a later change of the shard count
 * does not move existing events. Because events are spread by dedup key, not by person, each is also
 * listed under the provider accounts its hints name (when stored) and its user (when resolved), in
 * the shard each such key hashes to: deleting a person's deliveries asks those few shards.
 *
 * The acknowledgement waits on one durable write only: the WEBHOOKS message carrying the verified
 * delivery (its hints and the raw payload in base64). The webhook job (`storeQueuedDeliveries`) then
 * writes the row, which is where duplicates are recognised (a re-delivery's message finds the first
 * event's row and is acked without being processed), and, once the event is processed, the payload.
 * Measured on the bench (docs/benchmarks.md), a row insert and an R2 put were two thirds of the
 * route's wall time at 50 concurrent senders; a queue send alone is the cheapest durable thing a
 * Worker can do before answering.
 *
 * A delivery whose message would not fit a queue message (Cloudflare Queues: 128 KB; Terra bodies
 * go to 16 MiB) takes the older path (`recordDelivery`): the row first (with `enqueuedAt`), then the
 * payload and a message naming the row side by side. If either fails, `enqueuedAt` is cleared and
 * the provider gets an error, so it retries; the retry finds the row `received` without
 * `enqueuedAt` and finishes the work. If the provider never retries, the shard's sweep sends the
 * message (the job needs only the row's hints, not the payload).
 *
 * Nothing is lost when the webhook job keeps failing: each shard sweeps itself from its alarm (every
 * five minutes while it holds an unsettled event) and re-sends an event unprocessed an hour after
 * its message; a queued delivery that dies before its row was written is written by the
 * dead-letter handler (`keepDeadLetteredDelivery`) without `enqueuedAt`, so the sweep sends it.
 *
 * A delivery about no live connection keeps its row (dedup, history) but not its payload: nothing
 * about an account Pulse does not serve is kept, and a delivery still in the queue when a person
 * deletes their data leaves nothing of it behind when it is processed afterwards.
 *
 * Retention: payloads and rows live `WEBHOOK_RETENTION_DAYS` (30) days, long enough to replay a
 * week of deliveries after an incident and to answer a provider's questions about a month of
 * traffic, short enough that the hints (which name provider accounts) do not outlive their use.
 * Each shard's alarm deletes its own expired rows and payloads.
 */
import { and, eq } from "drizzle-orm";
import type {
  IndexEntry,
  LedgerEvent,
  LedgerOutcome,
  NewLedgerEvent,
  WebhookLedger,
} from "../../../durable-objects/webhook-ledger";
import { type Db, getDb } from "../../db/client";
import { newId } from "../../db/ids";
import { connections } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { errorName, log } from "../../observability/log";
import type { ProviderWebhookMessage, QueuedDelivery } from "../messages";
import { isProviderName, type ProviderName } from "../registry";
import { decodeBase64, encodeBase64 } from "./crypto.ts";
import type { VerifiedDelivery } from "./types.ts";

export { WEBHOOK_RETENTION_DAYS } from "../../../durable-objects/webhook-ledger";

/**
 * Ledger shards. Fixed: an event's shard is in its id and its dedup key must always hash to the
 * same shard. Sized by storage, which binds before write rate (docs/providers.md "Storage"): 30
 * days of 10 M people's deliveries are about 7.3 TB of SQLite (1.2 KB an event, measured), 3.6 GB
 * per shard against a Durable Object's 10 GB, while about 23 requests a second per shard at peak
 * are far below the roughly 1,000 one object sustains. A power of two, so doubling keeps every key
 * in its shard or moves it to exactly one other (`h mod 2N` is `h mod N` or that plus N).
 */
export const WEBHOOK_LEDGER_SHARDS = 2048;
/** Shards asked at once by a fan-out (the bench's count): a bound on one invocation's open calls. */
const FAN_OUT = 64;
/**
 * The largest WEBHOOKS message that carries its delivery inline, in JSON bytes: under Cloudflare
 * Queues' 128 KB per message (https://developers.cloudflare.com/queues/platform/limits/) with room
 * for the envelope Queues adds. About 90 KB of raw body once in base64.
 */
export const INLINE_MESSAGE_MAX_BYTES = 120_000;
/** Seconds a provider is asked to wait when the WEBHOOKS queue refused its delivery (as an upload's ingest queue). */
const QUEUE_RETRY_AFTER_SECONDS = 5;

export type WebhookEventRow = Omit<LedgerEvent, "provider"> & { provider: ProviderName };

type LedgerEnv = Pick<Env, "WEBHOOK_LEDGER">;

export interface WebhookEventsContext {
  db: Db;
  env: Pick<Env, "LAKE" | "WEBHOOKS" | "WEBHOOK_LEDGER">;
}

export interface ReceivedPayload {
  body: Uint8Array;
  contentType: string | null;
}

export function webhookPayloadKey(provider: ProviderName, receivedAt: Date, eventId: string): string {
  return `webhooks/${provider}/${receivedAt.toISOString().slice(0, 10)}/${eventId}.json`;
}

/**
 * The shard of a dedup key: FNV-1a over the UTF-8 bytes of `provider` and the key, finished with
 * MurmurHash3's fmix32 so the low bits the modulo keeps are as mixed as the high ones. Stable
 * across deploys and runtimes: it is part of where events are.
 */
export function ledgerShard(provider: ProviderName, dedupKey: string): number {
  return shardOf(`${provider}\n${dedupKey}`);
}

function shardOf(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % WEBHOOK_LEDGER_SHARDS;
}

/** The shard an event id names; null for an id that names none (never issued by this module). */
export function ledgerShardOfEvent(eventId: string): number | null {
  const match = /^whe_[a-z2-7]+_(\d{1,6})$/.exec(eventId);
  if (!match) return null;
  const shard = Number(match[1]);
  // Past the last shard is no shard: addressing it would create an object outside the ledger.
  return shard < WEBHOOK_LEDGER_SHARDS ? shard : null;
}

/** The person index's keys (durable-objects/webhook-ledger.ts), each in the shard it hashes to. */
const accountIndexKey = (provider: ProviderName, providerUserId: string) => `account:${provider}:${providerUserId}`;
const userIndexKey = (userId: string) => `user:${userId}`;

function accountEntries(event: {
  id: string;
  provider: ProviderName;
  hints: readonly { providerUserId: string }[];
}): IndexEntry[] {
  const accounts = new Set(event.hints.map((hint) => hint.providerUserId));
  return [...accounts].map((account) => ({ key: accountIndexKey(event.provider, account), eventId: event.id }));
}

/** Writes index entries, one call per index shard, side by side. */
async function indexEvents(env: LedgerEnv, entries: readonly IndexEntry[], at: Date): Promise<void> {
  await Promise.all(
    [...byShard(entries, (entry) => shardOf(entry.key))].map(([shard, group]) => ledger(env, shard).index(group, at.getTime())),
  );
}

function newEventId(provider: ProviderName, dedupKey: string): string {
  return `${newId("whe")}_${ledgerShard(provider, dedupKey)}`;
}

function ledger(env: LedgerEnv, shard: number): DurableObjectStub<WebhookLedger> {
  return env.WEBHOOK_LEDGER.getByName(`shard:${shard}`);
}

function asRow(event: LedgerEvent): WebhookEventRow | null {
  const { provider } = event;
  return isProviderName(provider) ? { ...event, provider } : null;
}

/** Items grouped by the shard `shardOf` names; those naming none are left out. */
function byShard<T>(items: readonly T[], shardOf: (item: T) => number | null): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const shard = shardOf(item);
    if (shard !== null) groups.set(shard, [...(groups.get(shard) ?? []), item]);
  }
  return groups;
}

/** `ask` of every shard, `FAN_OUT` at a time: for the rare questions no key narrows (deletion, counts). */
async function everyShard<T>(ask: (shard: number) => Promise<T>): Promise<T[]> {
  const answers: T[] = [];
  for (let start = 0; start < WEBHOOK_LEDGER_SHARDS; start += FAN_OUT) {
    const shards = Array.from({ length: Math.min(FAN_OUT, WEBHOOK_LEDGER_SHARDS - start) }, (_, index) => start + index);
    answers.push(...(await Promise.all(shards.map(ask))));
  }
  return answers;
}

function newLedgerEvent(
  id: string,
  provider: ProviderName,
  delivery: Pick<VerifiedDelivery, "dedupKey" | "eventType" | "authenticity" | "hints">,
  receivedAt: Date,
  enqueuedAt: Date | null,
): NewLedgerEvent & { provider: ProviderName } {
  const users = new Set(delivery.hints.map((hint) => hint.providerUserId));
  return {
    id,
    provider,
    dedupKey: delivery.dedupKey,
    eventType: delivery.eventType.slice(0, 200),
    authenticity: delivery.authenticity,
    hints: delivery.hints,
    providerUserId: users.size === 1 ? ([...users][0] ?? null) : null,
    r2Key: webhookPayloadKey(provider, receivedAt, id),
    receivedAt,
    enqueuedAt,
  };
}

/**
 * Makes a verified delivery durable, which is all the provider waits for: one WEBHOOKS message
 * carrying it when it fits (the job stores and dedups it), else the row-first path of
 * `recordDelivery`. A re-delivery is queued again and recognised by the job.
 */
export async function acceptDelivery(
  ctx: WebhookEventsContext,
  delivery: VerifiedDelivery,
  payload: ReceivedPayload,
  now: Date,
): Promise<{ eventId: string }> {
  // Base64 makes 3 bytes 4: a body past this cannot fit, and is not encoded only to find out.
  if (payload.body.byteLength > (INLINE_MESSAGE_MAX_BYTES / 4) * 3) return recordDelivery(ctx, delivery, payload, now);
  const id = newEventId(delivery.provider, delivery.dedupKey);
  const message: ProviderWebhookMessage = {
    type: "provider.webhook",
    provider: delivery.provider,
    webhookEventId: id,
    delivery: {
      dedupKey: delivery.dedupKey,
      eventType: delivery.eventType.slice(0, 200),
      authenticity: delivery.authenticity,
      hints: delivery.hints,
      receivedAt: now.toISOString(),
      payload: encodeBase64(payload.body),
      contentType: payload.contentType?.slice(0, 200) ?? null,
    },
  };
  if (new TextEncoder().encode(JSON.stringify(message)).byteLength > INLINE_MESSAGE_MAX_BYTES) {
    return recordDelivery(ctx, delivery, payload, now);
  }
  try {
    await ctx.env.WEBHOOKS.send(message, { contentType: "json" });
  } catch (error) {
    throw queueUnavailable(error);
  }
  return { eventId: id };
}

/**
 * The WEBHOOKS queue refused the delivery: nothing was acknowledged, so the provider is told to
 * retry (503 with Retry-After, as for any dependency out) rather than shown a bug (500).
 */
function queueUnavailable(error: unknown): DomainError {
  log("error", "webhooks queue unavailable", { error: errorName(error) });
  return new DomainError("SERVICE_UNAVAILABLE", "The delivery could not be queued; retry shortly.", {
    retryAfterSeconds: QUEUE_RETRY_AFTER_SECONDS,
    cause: error,
  });
}

/**
 * The webhook job's first step for a batch of messages: writes each queued delivery's row in its
 * shard (the dedup decision) and reads the rows named by messages that carry none (a large payload's,
 * the sweep's), one call per shard and kind, shards side by side. Answers each message's own row by
 * event id; a message whose dedup key another event holds (a re-delivery, also one earlier in the
 * same batch) or whose row is gone has none. A queued delivery's payload is written once the event is
 * processed (`keepQueuedPayload`): a delivery about no live connection never stores one.
 *
 * A queued delivery whose id names no shard (queued before events left D1) is stored under its id
 * with its key's shard appended, the same on every attempt, and answered under the message's id.
 * One whose id names another shard than its key's was not queued by `acceptDelivery` and is not
 * stored: stored there, its key would escape the dedup of its own shard and be processed twice.
 */
export async function storeQueuedDeliveries(
  env: LedgerEnv,
  messages: readonly ProviderWebhookMessage[],
  now: Date,
  enqueued: { enqueuedAt: Date | null } = { enqueuedAt: now },
): Promise<Map<string, WebhookEventRow>> {
  const rows = new Map<string, WebhookEventRow>();
  /** Row id → the id its message knows it by. */
  const messageIds = new Map<string, string>();
  const keep = (event: LedgerEvent) => {
    const row = asRow(event);
    if (row) rows.set(messageIds.get(row.id) ?? row.id, row);
  };
  const calls: Promise<void>[] = [];
  const queued = messages.flatMap((message) => {
    const { delivery } = message;
    if (!delivery) return [];
    const keyShard = ledgerShard(message.provider, delivery.dedupKey);
    const named = ledgerShardOfEvent(message.webhookEventId);
    const id = named === null ? `${message.webhookEventId}_${keyShard}` : message.webhookEventId;
    if (ledgerShardOfEvent(id) !== keyShard) {
      log("warn", "webhook message refused: its event id does not name its key's shard", { provider: message.provider });
      return [];
    }
    messageIds.set(id, message.webhookEventId);
    return [newLedgerEvent(id, message.provider, delivery, new Date(delivery.receivedAt), enqueued.enqueuedAt)];
  });
  // Listed before or while stored, never after: an entry without its event is harmless, an event
  // without its entries could outlive a person's deletion. A re-delivery's entry names no event.
  calls.push(
    indexEvents(
      env,
      queued.flatMap((event) => accountEntries(event)),
      now,
    ),
  );
  for (const [shard, events] of byShard(queued, (event) => ledgerShardOfEvent(event.id))) {
    calls.push(
      ledger(env, shard)
        .store(events)
        .then((stored) => {
          // The holder of the key is this message's row when it was written now or by an earlier attempt.
          for (const { event } of stored) if (event !== null && messageIds.has(event.id)) keep(event);
        }),
    );
  }
  const referenced = [...new Set(messages.filter((message) => !message.delivery).map((message) => message.webhookEventId))];
  for (const [shard, ids] of byShard(referenced, ledgerShardOfEvent)) {
    calls.push(
      ledger(env, shard)
        .load(ids)
        .then((events) => events.forEach(keep)),
    );
  }
  await Promise.all(calls);
  return rows;
}

/** Writes a queued delivery's raw payload where every payload is kept (idempotent: a retry rewrites it). */
export async function keepQueuedPayload(env: Pick<Env, "LAKE">, row: WebhookEventRow, delivery: QueuedDelivery): Promise<void> {
  await env.LAKE.put(row.r2Key, decodeBase64(delivery.payload) ?? new Uint8Array(), {
    httpMetadata: { contentType: delivery.contentType ?? "application/octet-stream" },
    customMetadata: { provider: row.provider, eventType: row.eventType },
  });
}

/**
 * Dead-letter handler of `provider.webhook`: a queued delivery whose job failed every retry before
 * writing its row is written now, row and payload, without `enqueuedAt`, so its shard's sweep
 * queues it again (by reference: the job then reads the row, and a drop deletes the payload). A
 * message naming an existing row needs nothing: the sweep finds that row unprocessed.
 */
export async function keepDeadLetteredDelivery(
  env: Pick<Env, "LAKE" | "WEBHOOK_LEDGER">,
  message: ProviderWebhookMessage,
): Promise<void> {
  const { delivery } = message;
  if (!delivery) return;
  const rows = await storeQueuedDeliveries(env, [message], new Date(), { enqueuedAt: null });
  const row = rows.get(message.webhookEventId);
  if (row?.status === "received") await keepQueuedPayload(env, row, delivery);
}

/**
 * Stores a verified delivery and queues it, once per dedup key. A re-delivery answers the first
 * event's id with `duplicate: true` and is neither stored nor queued again, unless the first
 * attempt failed before its message was sent: then this one completes it.
 */
export async function recordDelivery(
  ctx: WebhookEventsContext,
  delivery: VerifiedDelivery,
  payload: ReceivedPayload,
  now: Date,
): Promise<{ eventId: string; duplicate: boolean }> {
  const id = newEventId(delivery.provider, delivery.dedupKey);
  const shard = ledger(ctx.env, ledgerShard(delivery.provider, delivery.dedupKey));
  const [[stored]] = await Promise.all([
    shard.store([newLedgerEvent(id, delivery.provider, delivery, now, now)]),
    indexEvents(ctx.env, accountEntries({ id, provider: delivery.provider, hints: delivery.hints }), now),
  ]);
  const event = stored?.event ? asRow(stored.event) : null;
  if (!stored || !event) throw new Error("the webhook ledger answered no row");
  if (stored.inserted) {
    await storeAndEnqueue(ctx, event, payload);
    return { eventId: event.id, duplicate: false };
  }
  if (event.status === "received" && event.enqueuedAt === null) {
    await storeAndEnqueue(ctx, event, payload);
    await shard.setEnqueued(event.id, now.getTime());
  }
  return { eventId: event.id, duplicate: true };
}

async function storeAndEnqueue(ctx: WebhookEventsContext, row: WebhookEventRow, payload: ReceivedPayload) {
  // Side by side, both before the answer: the job reads only the row, so neither waits on the other.
  const results = await Promise.allSettled([
    ctx.env.LAKE.put(row.r2Key, payload.body, {
      httpMetadata: { contentType: payload.contentType ?? "application/octet-stream" },
      customMetadata: { provider: row.provider, eventType: row.eventType },
    }),
    ctx.env.WEBHOOKS.send({ type: "provider.webhook", provider: row.provider, webhookEventId: row.id }, { contentType: "json" }),
  ]);
  const [stored, queued] = results;
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (!failed) return;
  // So the provider's retry (or the sweep, two minutes on) does the work again.
  const shard = ledgerShardOfEvent(row.id);
  if (shard !== null) {
    await ledger(ctx.env, shard)
      .setEnqueued(row.id, null)
      .catch((error: unknown) => log("warn", "webhook enqueuedAt not cleared", { error: errorName(error) }));
  }
  // R2's own failure keeps its classification (src/db/errors.ts); the queue has none of its own.
  if (stored?.status === "fulfilled" && queued?.status === "rejected") throw queueUnavailable(queued.reason);
  throw failed.reason;
}

/** The events of these ids that still exist, one call per shard. */
export async function loadWebhookEvents(env: LedgerEnv, ids: readonly string[]): Promise<WebhookEventRow[]> {
  const groups = [...byShard([...new Set(ids)], ledgerShardOfEvent)];
  const loaded = await Promise.all(groups.map(([shard, group]) => ledger(env, shard).load(group)));
  return loaded.flat().flatMap((event) => asRow(event) ?? []);
}

/** A dropped event's stored payload goes, before the row is settled, so a failure in between is retried. */
export async function forgetWebhookPayload(env: Pick<Env, "LAKE">, event: WebhookEventRow): Promise<void> {
  await env.LAKE.delete(event.r2Key);
}

export interface WebhookEventOutcome {
  status: "processed" | "dropped";
  userId?: string | null;
  connectionId?: string | null;
}

/**
 * Records the job's outcomes, one call per shard; only a `received` event moves, so a redelivered
 * message changes nothing. An event resolved to a person is listed under them too, first.
 */
export async function settleWebhookEvents(
  env: LedgerEnv,
  outcomes: readonly (WebhookEventOutcome & { id: string })[],
  now: Date,
): Promise<void> {
  const settled: LedgerOutcome[] = outcomes.map((outcome) => ({
    id: outcome.id,
    status: outcome.status,
    userId: outcome.userId ?? null,
    connectionId: outcome.connectionId ?? null,
  }));
  const resolved = settled.flatMap((outcome) =>
    outcome.userId === null ? [] : [{ key: userIndexKey(outcome.userId), eventId: outcome.id }],
  );
  await indexEvents(env, resolved, now);
  await Promise.all(
    [...byShard(settled, (outcome) => ledgerShardOfEvent(outcome.id))].map(([shard, group]) =>
      ledger(env, shard).settle(group, now.getTime()),
    ),
  );
}

/**
 * Deletes every stored delivery about one person, rows and payloads (DESIGN §7: deletion also
 * removes stored webhook payloads): the events resolved to the user, and those naming any provider
 * account the user has connected (also before they were resolved, and inside a multi-user batch,
 * whose payload then goes too); at one provider, or at every one when none is named. The person
 * index names them: one call per index shard of the person's keys, one per shard holding their
 * events, then their entries go (entries of events kept, another provider's, stay).
 */
export async function deleteWebhookEvents(
  env: Pick<Env, "DB" | "WEBHOOK_LEDGER">,
  target: { userId: string; provider?: ProviderName },
): Promise<{ deleted: number }> {
  const db = getDb(env.DB);
  const accounts = await db
    .select({ provider: connections.provider, providerUserId: connections.providerUserId })
    .from(connections)
    .where(
      target.provider === undefined
        ? eq(connections.userId, target.userId)
        : and(eq(connections.userId, target.userId), eq(connections.provider, target.provider)),
    );
  const keys = [
    userIndexKey(target.userId),
    ...accounts.flatMap((row) => (row.providerUserId === null ? [] : [accountIndexKey(row.provider, row.providerUserId)])),
  ];
  const entries = await indexedUnder(env, keys);
  const ids = [...new Set(entries.map((entry) => entry.eventId))];
  const forgotten = await Promise.all(
    [...byShard(ids, ledgerShardOfEvent)].map(([shard, group]) => ledger(env, shard).forget(group, target.provider ?? null)),
  );
  const gone = new Set(forgotten.flatMap((result) => result.gone));
  const stale = entries.filter((entry) => gone.has(entry.eventId) || ledgerShardOfEvent(entry.eventId) === null);
  await Promise.all(
    [...byShard(stale, (entry) => shardOf(entry.key))].map(([shard, group]) => ledger(env, shard).unindex(group)),
  );
  return { deleted: forgotten.reduce((sum, result) => sum + result.deleted, 0) };
}

async function indexedUnder(env: LedgerEnv, keys: readonly string[]): Promise<IndexEntry[]> {
  const groups = [...byShard([...new Set(keys)], shardOf)];
  return (await Promise.all(groups.map(([shard, group]) => ledger(env, shard).indexed(group)))).flat();
}

/** The stored deliveries naming one provider account, newest first (support, tests). */
export async function webhookEventsAbout(
  env: LedgerEnv,
  provider: ProviderName,
  providerUserId: string,
): Promise<WebhookEventRow[]> {
  const entries = await indexedUnder(env, [accountIndexKey(provider, providerUserId)]);
  const events = await loadWebhookEvents(
    env,
    entries.map((entry) => entry.eventId),
  );
  return events.sort((a, b) => b.receivedAt.getTime() - a.receivedAt.getTime());
}

/** How many events the ledger holds, all shards together (the bench's count of stored deliveries). */
export async function countWebhookEvents(env: LedgerEnv): Promise<number> {
  return (await everyShard((shard) => ledger(env, shard).count())).reduce((sum, count) => sum + count, 0);
}
