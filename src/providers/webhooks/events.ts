/**
 * Where verified webhook deliveries are kept (DESIGN §5, §7): one D1 row per distinct event
 * (`webhook_events`, unique `(provider, dedup_key)`) and the raw payload in R2 under
 * `webhooks/{provider}/{yyyy-mm-dd}/{eventId}.json`. Everything that reads or writes them goes
 * through this module, so moving the rows out of D1 later changes one file.
 *
 * The acknowledgement waits on one durable write only: the WEBHOOKS message carrying the verified
 * delivery (its hints and the raw payload in base64). The webhook job (`storeQueuedDeliveries`) then
 * writes the row, which is where duplicates are recognised (a re-delivery's message finds the first
 * event's row and is acked without being processed), and, once the event is processed, the payload. Measured on the bench
 * (docs/benchmarks.md), the row insert and the R2 put were two thirds of the route's wall time at
 * 50 concurrent senders, and every delivery queued behind D1's single writer; a queue send alone
 * is the cheapest durable thing a Worker can do before answering.
 *
 * A delivery whose message would not fit a queue message (Cloudflare Queues: 128 KB; Terra bodies
 * go to 16 MiB) takes the older path (`recordDelivery`): the row first (with `enqueued_at`), then the
 * payload and a message naming the row side by side. If either fails, `enqueued_at` is cleared and
 * the provider gets an error, so it retries; the retry finds the row `received` without
 * `enqueued_at` and finishes the work. If the provider never retries, the five-minute sweep sends the
 * message (the job needs only the row's hints, not the payload).
 *
 * Nothing is lost when the webhook job keeps failing: a row it wrote and could not process is
 * re-sent by the sweep an hour on; a queued delivery that dies before its row was written is
 * written by the dead-letter handler (`keepDeadLetteredDelivery`) without `enqueued_at`, so the sweep
 * sends it two minutes later.
 *
 * A delivery about no live connection keeps its row (dedup, history) but not its payload: nothing
 * about an account Pulse does not serve is kept, and a delivery still in the queue when a person
 * deletes their data leaves nothing of it behind when it is processed afterwards.
 *
 * Retention: payloads and rows live `WEBHOOK_RETENTION_DAYS` (30) days, long enough to replay a
 * week of deliveries after an incident and to answer a provider's questions about a month of
 * traffic, short enough that the hints (which name provider accounts) do not outlive their use.
 */
import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { type Db, getDb } from "../../db/client";
import { newId } from "../../db/ids";
import { connections, type WebhookEventRow, webhookEvents } from "../../db/schema";
import { errorName, log } from "../../observability/log";
import type { ProviderWebhookMessage, QueuedDelivery } from "../messages";
import type { ProviderName } from "../registry";
import { decodeBase64, encodeBase64 } from "./crypto.ts";
import type { VerifiedDelivery } from "./types.ts";

export const WEBHOOK_RETENTION_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The sweep re-sends a row left without a message this long, or unprocessed this long after one. */
export const UNSENT_AFTER_MS = 2 * 60_000;
export const UNPROCESSED_AFTER_MS = 60 * 60_000;
/** After this many sweeps an event that never gets processed is dropped instead of looping. */
export const MAX_SWEEPS = 5;
/** D1 binds at most 100 parameters per statement: id lists stay below that. */
const PAGE_SIZE = 90;
/**
 * The largest WEBHOOKS message that carries its delivery inline, in JSON bytes: under Cloudflare
 * Queues' 128 KB per message (https://developers.cloudflare.com/queues/platform/limits/) with room
 * for the envelope Queues adds. About 90 KB of raw body once in base64.
 */
export const INLINE_MESSAGE_MAX_BYTES = 120_000;

export interface WebhookEventsContext {
  db: Db;
  env: Pick<Env, "LAKE" | "WEBHOOKS">;
}

export interface ReceivedPayload {
  body: Uint8Array;
  contentType: string | null;
}

export function webhookPayloadKey(provider: ProviderName, receivedAt: Date, eventId: string): string {
  return `webhooks/${provider}/${receivedAt.toISOString().slice(0, 10)}/${eventId}.json`;
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
  const id = newId("whe");
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
  await ctx.env.WEBHOOKS.send(message, { contentType: "json" });
  return { eventId: id };
}

/**
 * The webhook job's first step for a queued delivery: writes its row, the dedup decision. Answers
 * `duplicate` when another event already holds the dedup key (a re-delivery: acked, not processed
 * again), `gone` when the dedup key's row vanished meanwhile, else the row: this message's, written
 * now or by an earlier attempt of the same message. The payload is written once the event is
 * processed (`keepQueuedPayload`): a delivery about no live connection never stores one.
 */
export async function storeQueuedDelivery(
  ctx: WebhookEventsContext,
  message: ProviderWebhookMessage & { delivery: QueuedDelivery },
  now: Date,
  enqueued: { enqueuedAt: Date | null } = { enqueuedAt: now },
): Promise<WebhookEventRow | "duplicate" | "gone"> {
  const { delivery } = message;
  const [inserted] = await insertQueuedDelivery(ctx.db, message, enqueued.enqueuedAt);
  if (inserted) return inserted;
  const [existing] = await ctx.db
    .select()
    .from(webhookEvents)
    .where(and(eq(webhookEvents.provider, message.provider), eq(webhookEvents.dedupKey, delivery.dedupKey)))
    .limit(1);
  if (!existing) return "gone";
  return existing.id === message.webhookEventId ? existing : "duplicate";
}

/** The dedup row of a queued delivery, inserted unless its dedup key is taken (then no row returned). */
function insertQueuedDelivery(db: Db, message: ProviderWebhookMessage & { delivery: QueuedDelivery }, enqueuedAt: Date | null) {
  const { delivery } = message;
  const receivedAt = new Date(delivery.receivedAt);
  const users = new Set(delivery.hints.map((hint) => hint.providerUserId));
  return db
    .insert(webhookEvents)
    .values({
      id: message.webhookEventId,
      provider: message.provider,
      dedupKey: delivery.dedupKey,
      eventType: delivery.eventType,
      authenticity: delivery.authenticity,
      hints: delivery.hints,
      providerUserId: users.size === 1 ? ([...users][0] ?? null) : null,
      r2Key: webhookPayloadKey(message.provider, receivedAt, message.webhookEventId),
      status: "received",
      receivedAt,
      enqueuedAt,
    })
    .onConflictDoNothing({ target: [webhookEvents.provider, webhookEvents.dedupKey] })
    .returning();
}

/**
 * `storeQueuedDelivery` for a whole batch of messages, in two D1 round trips at most: one D1 batch
 * (one transaction) inserting every queued delivery's row, then one read of the rows named by the
 * messages that inserted none (an earlier attempt of the same message wrote it, or the message names
 * a stored row). Answers each message's own row by event id; a message whose dedup key another event
 * holds (a re-delivery, also one earlier in the same batch) or whose row is gone has none.
 */
export async function storeQueuedDeliveries(
  db: Db,
  messages: readonly ProviderWebhookMessage[],
  now: Date,
): Promise<Map<string, WebhookEventRow>> {
  const rows = new Map<string, WebhookEventRow>();
  const [head, ...tail] = messages.flatMap((message) =>
    message.delivery ? [insertQueuedDelivery(db, { ...message, delivery: message.delivery }, now)] : [],
  );
  if (head !== undefined) {
    for (const row of (await db.batch([head, ...tail])).flat()) rows.set(row.id, row);
  }
  const missing = [...new Set(messages.map((message) => message.webhookEventId))].filter((id) => !rows.has(id));
  for (const row of await loadWebhookEvents(db, missing)) rows.set(row.id, row);
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
 * writing its row is written now, row and payload, without `enqueued_at`, so the five-minute sweep
 * queues it again (by reference: the job then reads the row, and a drop deletes the payload). A
 * message naming an existing row needs nothing: the sweep finds that row unprocessed.
 */
export async function keepDeadLetteredDelivery(env: Env, message: ProviderWebhookMessage): Promise<void> {
  if (!message.delivery) return;
  const ctx = { db: getDb(env.DB), env };
  const row = await storeQueuedDelivery(ctx, { ...message, delivery: message.delivery }, new Date(), { enqueuedAt: null });
  if (typeof row !== "string" && row.status === "received") await keepQueuedPayload(env, row, message.delivery);
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
  const id = newId("whe");
  const users = new Set(delivery.hints.map((hint) => hint.providerUserId));
  const [inserted] = await ctx.db
    .insert(webhookEvents)
    .values({
      id,
      provider: delivery.provider,
      dedupKey: delivery.dedupKey,
      eventType: delivery.eventType.slice(0, 200),
      authenticity: delivery.authenticity,
      hints: delivery.hints,
      providerUserId: users.size === 1 ? ([...users][0] ?? null) : null,
      r2Key: webhookPayloadKey(delivery.provider, now, id),
      status: "received",
      receivedAt: now,
      enqueuedAt: now,
    })
    .onConflictDoNothing({ target: [webhookEvents.provider, webhookEvents.dedupKey] })
    .returning();
  if (inserted) {
    await storeAndEnqueue(ctx, inserted, payload);
    return { eventId: inserted.id, duplicate: false };
  }
  const [existing] = await ctx.db
    .select()
    .from(webhookEvents)
    .where(and(eq(webhookEvents.provider, delivery.provider), eq(webhookEvents.dedupKey, delivery.dedupKey)))
    .limit(1);
  // Deleted between the insert and this read (retention, a person's deletion): nothing to redo.
  if (!existing) return { eventId: id, duplicate: true };
  if (existing.status === "received" && existing.enqueuedAt === null) {
    await storeAndEnqueue(ctx, existing, payload);
    await markEnqueued(ctx.db, [existing], now);
  }
  return { eventId: existing.id, duplicate: true };
}

async function storeAndEnqueue(ctx: WebhookEventsContext, row: WebhookEventRow, payload: ReceivedPayload) {
  // Side by side, both before the answer: the job reads only the row, so neither waits on the other.
  const results = await Promise.allSettled([
    ctx.env.LAKE.put(row.r2Key, payload.body, {
      httpMetadata: { contentType: payload.contentType ?? "application/octet-stream" },
      customMetadata: { provider: row.provider, eventType: row.eventType },
    }),
    send(ctx, [row]),
  ]);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (!failed) return;
  // So the provider's retry (or the sweep, two minutes on) does the work again.
  await ctx.db
    .update(webhookEvents)
    .set({ enqueuedAt: null })
    .where(eq(webhookEvents.id, row.id))
    .catch((error: unknown) => log("warn", "webhook enqueued_at not cleared", { error: errorName(error) }));
  throw failed.reason;
}

async function send(ctx: WebhookEventsContext, rows: readonly WebhookEventRow[]): Promise<void> {
  await ctx.env.WEBHOOKS.sendBatch(
    rows.map((row) => ({
      body: { type: "provider.webhook" as const, provider: row.provider, webhookEventId: row.id },
      contentType: "json" as const,
    })),
  );
}

async function markEnqueued(db: Db, rows: readonly WebhookEventRow[], now: Date): Promise<void> {
  await db
    .update(webhookEvents)
    .set({ enqueuedAt: now })
    .where(
      inArray(
        webhookEvents.id,
        rows.map((row) => row.id),
      ),
    );
}

/** The rows of these event ids that still exist, in as few reads as D1's parameter limit allows. */
export async function loadWebhookEvents(db: Db, ids: readonly string[]): Promise<WebhookEventRow[]> {
  const rows: WebhookEventRow[] = [];
  for (let start = 0; start < ids.length; start += PAGE_SIZE) {
    rows.push(
      ...(await db
        .select()
        .from(webhookEvents)
        .where(inArray(webhookEvents.id, ids.slice(start, start + PAGE_SIZE)))),
    );
  }
  return rows;
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
 * Records the job's outcomes in one D1 batch (one round trip, one transaction); only a `received`
 * event moves, so a redelivered message changes nothing.
 */
export async function settleWebhookEvents(
  db: Db,
  outcomes: readonly (WebhookEventOutcome & { id: string })[],
  now: Date,
): Promise<void> {
  const [head, ...tail] = outcomes.map((outcome) =>
    db
      .update(webhookEvents)
      .set({
        status: outcome.status,
        userId: outcome.userId ?? null,
        connectionId: outcome.connectionId ?? null,
        processedAt: now,
      })
      .where(and(eq(webhookEvents.id, outcome.id), eq(webhookEvents.status, "received"))),
  );
  if (head !== undefined) await db.batch([head, ...tail]);
}

/**
 * The five-minute sweep: events still `received` with no WEBHOOKS message after `UNSENT_AFTER_MS`
 * (the route failed after the insert and the provider did not retry), or none processed
 * `UNPROCESSED_AFTER_MS` after it (the message died in the DLQ), are sent again; one swept
 * `MAX_SWEEPS` times is dropped. Bounded: at most `maxPages` pages per run.
 */
export async function sweepStuckWebhookEvents(
  ctx: WebhookEventsContext,
  now: Date,
  budget: { maxPages?: number } = {},
): Promise<{ resent: string[]; dropped: string[] }> {
  const result = { resent: [] as string[], dropped: [] as string[] };
  const unsentBefore = new Date(now.getTime() - UNSENT_AFTER_MS);
  const unprocessedBefore = new Date(now.getTime() - UNPROCESSED_AFTER_MS);
  for (let page = 0; page < (budget.maxPages ?? 20); page++) {
    const rows = await ctx.db
      .select()
      .from(webhookEvents)
      .where(
        and(
          eq(webhookEvents.status, "received"),
          or(
            and(isNull(webhookEvents.enqueuedAt), lt(webhookEvents.receivedAt, unsentBefore)),
            lt(webhookEvents.enqueuedAt, unprocessedBefore),
          ),
        ),
      )
      .orderBy(asc(webhookEvents.receivedAt))
      .limit(PAGE_SIZE);
    if (rows.length === 0) break;
    const exhausted = rows.filter((row) => row.sweeps >= MAX_SWEEPS);
    const resend = rows.filter((row) => row.sweeps < MAX_SWEEPS);
    if (exhausted.length > 0) {
      await ctx.db
        .update(webhookEvents)
        .set({ status: "dropped", processedAt: now })
        .where(
          and(
            inArray(
              webhookEvents.id,
              exhausted.map((row) => row.id),
            ),
            eq(webhookEvents.status, "received"),
          ),
        );
      result.dropped.push(...exhausted.map((row) => row.id));
    }
    if (resend.length > 0) {
      await ctx.db
        .update(webhookEvents)
        .set({ sweeps: sql`${webhookEvents.sweeps} + 1` })
        .where(
          inArray(
            webhookEvents.id,
            resend.map((row) => row.id),
          ),
        );
      await send(ctx, resend);
      // enqueued_at = now, so the same rows are not picked again on the next page.
      await markEnqueued(ctx.db, resend, now);
      result.resent.push(...resend.map((row) => row.id));
    }
  }
  return result;
}

/**
 * Deletes every stored delivery about one person's account at one provider, rows and payloads
 * (DESIGN §7: deletion also removes stored webhook payloads): the events resolved to the user, and
 * those naming any provider account the user has connected (also before they were resolved, and
 * inside a multi-user batch, whose payload then goes too). Payloads first, so a failure leaves
 * rows to retry rather than orphaned objects.
 */
export async function deleteWebhookEvents(
  env: Pick<Env, "DB" | "LAKE">,
  target: { userId: string; provider: ProviderName },
): Promise<{ deleted: number }> {
  const db = getDb(env.DB);
  const accounts = (
    await db
      .select({ providerUserId: connections.providerUserId })
      .from(connections)
      .where(and(eq(connections.userId, target.userId), eq(connections.provider, target.provider)))
  )
    .map((row) => row.providerUserId)
    .filter((value): value is string => value !== null)
    .slice(0, 20);
  const accountList =
    accounts.length === 0
      ? sql`(NULL)`
      : sql`(${sql.join(
          accounts.map((account) => sql`${account}`),
          sql`, `,
        )})`;
  const matches = and(
    eq(webhookEvents.provider, target.provider),
    or(
      eq(webhookEvents.userId, target.userId),
      sql`${webhookEvents.providerUserId} IN ${accountList}`,
      sql`(${webhookEvents.providerUserId} IS NULL AND EXISTS (SELECT 1 FROM json_each(${webhookEvents.hints}) WHERE json_extract(value, '$.providerUserId') IN ${accountList}))`,
    ),
  );
  return deletePages(env, db, matches, Number.POSITIVE_INFINITY);
}

/** The daily retention job's work: rows and payloads received more than 30 days before `now`. */
export async function purgeExpiredWebhookEvents(
  env: Pick<Env, "DB" | "LAKE">,
  now: Date,
  maxPages = 500,
): Promise<{ deleted: number }> {
  const db = getDb(env.DB);
  const cutoff = new Date(now.getTime() - WEBHOOK_RETENTION_DAYS * DAY_MS);
  return deletePages(env, db, lt(webhookEvents.receivedAt, cutoff), maxPages);
}

async function deletePages(
  env: Pick<Env, "LAKE">,
  db: Db,
  where: ReturnType<typeof and>,
  maxPages: number,
): Promise<{ deleted: number }> {
  let deleted = 0;
  for (let page = 0; page < maxPages; page++) {
    const rows = await db
      .select({ id: webhookEvents.id, r2Key: webhookEvents.r2Key })
      .from(webhookEvents)
      .where(where)
      .limit(PAGE_SIZE);
    if (rows.length === 0) break;
    await env.LAKE.delete(rows.map((row) => row.r2Key));
    await db.delete(webhookEvents).where(
      inArray(
        webhookEvents.id,
        rows.map((row) => row.id),
      ),
    );
    deleted += rows.length;
  }
  return { deleted };
}
