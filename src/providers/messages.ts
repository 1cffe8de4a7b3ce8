/**
 * The queue messages of provider work (DESIGN §1, §7), shared by their producers (the connection
 * routes, the webhook route, the hourly refresh cron) and their consumers (src/providers/sync/,
 * src/providers/webhooks/). Bodies carry ids and instants only, never a token or a health value,
 * with one exception: a webhook delivery travels in its `provider.webhook` message (the provider's
 * raw payload, which for Terra can hold values), because that message is the acknowledgement's only
 * write (src/providers/webhooks/events.ts). Its consumer stores it where every payload is kept.
 */
import { z } from "zod";
import { WEBHOOK_AUTHENTICITIES } from "../db/schema";
import { PROVIDER_NAMES } from "./registry";

const id = z.string().min(1).max(64);
const instant = z.iso.datetime({ offset: true });
const provider = z.enum(PROVIDER_NAMES);

/** SYNC queue: fetch `[since, until)` for one connection (backfill, a manual sync, a webhook hint). */
export const providerSyncMessage = z.object({
  type: z.literal("provider.sync"),
  connectionId: id,
  userId: id,
  provider,
  since: instant,
  until: instant,
  reason: z.enum(["backfill", "manual", "webhook"]),
});
export type ProviderSyncMessage = z.infer<typeof providerSyncMessage>;

/** SYNC queue: refresh one connection's access token under its lock. */
export const providerRefreshMessage = z.object({
  type: z.literal("provider.refresh"),
  connectionId: id,
  userId: id,
  provider,
});
export type ProviderRefreshMessage = z.infer<typeof providerRefreshMessage>;

const hintText = z.string().max(200);

/** One change hint as verification read it (src/db/schema/webhook-events.ts `StoredHint`). */
const storedHint = z.object({
  providerUserId: hintText,
  dataType: hintText,
  operation: z.enum(["upsert", "delete", "deauthorize", "other"]),
  objectId: hintText.optional(),
  start: hintText.optional(),
  end: hintText.optional(),
  date: hintText.optional(),
  endDate: hintText.optional(),
});

/**
 * A verified delivery not yet stored: what its ledger row (src/providers/webhooks/events.ts) and R2 payload will hold.
 * `payload` is the raw body in base64 (bodies are bytes; signatures were checked over them).
 */
const queuedDelivery = z.object({
  dedupKey: z.string().min(1).max(1000),
  eventType: z.string().max(200),
  authenticity: z.enum(WEBHOOK_AUTHENTICITIES),
  hints: z.array(storedHint),
  receivedAt: instant,
  payload: z.base64(),
  contentType: z.string().max(200).nullable(),
});
export type QueuedDelivery = z.infer<typeof queuedDelivery>;

/**
 * WEBHOOKS queue (INGEST before webhooks had their own; still drained there): act on one verified
 * webhook delivery. `webhookEventId` is its row's id; `delivery`
 * is present when the route queued the delivery itself (the row does not exist yet, the consumer
 * writes it), absent when the row was written first (a payload too large for a message, the sweep).
 */
export const providerWebhookMessage = z.object({
  type: z.literal("provider.webhook"),
  provider,
  webhookEventId: id,
  delivery: queuedDelivery.optional(),
});
export type ProviderWebhookMessage = z.infer<typeof providerWebhookMessage>;
