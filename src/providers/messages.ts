/**
 * The queue messages of provider work (DESIGN §1, §7), shared by their producers (the connection
 * routes, the webhook route, the hourly refresh cron) and their consumers (src/providers/sync/,
 * src/providers/webhooks/). Bodies carry ids and instants only, never a token or a health value.
 */
import { z } from "zod";
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

/** INGEST queue: act on one stored, verified webhook delivery (the webhook event row's id). */
export const providerWebhookMessage = z.object({
  type: z.literal("provider.webhook"),
  provider,
  webhookEventId: id,
});
export type ProviderWebhookMessage = z.infer<typeof providerWebhookMessage>;
