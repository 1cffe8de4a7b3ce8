/**
 * The Pulse Worker: one entry serving fetch, queue and scheduled (DESIGN §1). Durable Object
 * classes live in durable-objects/ and are exported here so wrangler can bind them.
 */
import { createApp } from "./app";
import { handleQueueBatch } from "./queues/consumer";
import { handleScheduled } from "./scheduled/handler";

export { AuthActivity } from "../durable-objects/auth-activity";
export { HealthStore } from "../durable-objects/health-store";
export { OAuthState } from "../durable-objects/oauth-state";
export { RateLimiter } from "../durable-objects/rate-limiter";
export { WebhookLedger } from "../durable-objects/webhook-ledger";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  queue: (batch, env, ctx) => handleQueueBatch(batch, env, ctx),
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx),
} satisfies ExportedHandler<Env>;
