/**
 * Scheduled work on stored webhook events (src/scheduled/handler.ts): the five-minute sweep that
 * re-sends events left without a WEBHOOKS message, and the daily 30-day retention purge.
 */
import { getDb } from "../../db/client";
import { log } from "../../observability/log";
import type { ScheduledJob } from "../../scheduled/handler";
import { purgeExpiredWebhookEvents, sweepStuckWebhookEvents } from "./events.ts";

export const sweepStuckWebhookEventsJob: ScheduledJob = {
  name: "sweepStuckWebhookEvents",
  async run(env, scheduledTime) {
    const result = await sweepStuckWebhookEvents({ db: getDb(env.DB), env }, scheduledTime);
    if (result.resent.length + result.dropped.length > 0) {
      log("warn", "stuck webhook events swept", { resent: result.resent.length, dropped: result.dropped.length });
    }
  },
};

export const purgeExpiredWebhookEventsJob: ScheduledJob = {
  name: "purgeExpiredWebhookEvents",
  async run(env, scheduledTime) {
    const result = await purgeExpiredWebhookEvents(env, scheduledTime);
    if (result.deleted > 0) log("info", "expired webhook events purged", { deleted: result.deleted });
  },
};
