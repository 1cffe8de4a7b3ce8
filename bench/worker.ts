/**
 * Benchmark-only Worker entry (bench/run.mjs builds and serves it; it is never deployed). It wraps
 * the real application so the benchmark can compare, in one workerd isolate:
 *  - `/__bench/bare`: a Response returned before Hono, the floor any route pays;
 *  - `/v1/__bench/stack`: a trivial handler behind every middleware src/app.ts applies to /v1/*;
 *  - `/__bench/stack`: the same handler outside /v1, so without the per-IP rate limiter, which
 *    splits the stack's cost into "Hono and the global middleware" and "the limiter".
 * Everything else, including /health, is the production app unchanged.
 */
import { createApp } from "../src/app";
import production from "../src/index";

export { HealthStore, OAuthState, RateLimiter } from "../src/index";

const BARE_PATH = "/__bench/bare";
const STACK_PATH = "/v1/__bench/stack";
const UNLIMITED_STACK_PATH = "/__bench/stack";

// All bench routes answer the same body so the comparison is about the path taken, not bytes.
const body = () => ({ ok: true });

const app = createApp();
app.get(STACK_PATH, (c) => c.json(body()));
app.get(UNLIMITED_STACK_PATH, (c) => c.json(body()));

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === BARE_PATH) return Response.json(body());
    return app.fetch(request, env, ctx);
  },
  queue: production.queue,
  scheduled: production.scheduled,
} satisfies ExportedHandler<Env>;
