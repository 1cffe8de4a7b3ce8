/**
 * Benchmark-only Worker entry (bench/run.mjs builds and serves it; it is never deployed). It wraps
 * the real application so the benchmark can compare, in one workerd isolate:
 *  - `/__bench/bare`: a Response returned before Hono, the floor any route pays;
 *  - `/v1/__bench/stack`: a trivial handler behind every middleware src/app.ts applies to /v1/*;
 *  - `/__bench/stack`: the same handler outside /v1, so without the per-IP rate limiter, which
 *    splits the stack's cost into "Hono and the global middleware" and "the limiter";
 *  - `/v1/__bench/authed`: the same handler behind `requireAuth()` (JWT verify + session lookup),
 *    with `POST /__bench/session` handing the bench a signed-in session to call it with;
 *  - `GET /__bench/webhook-events`: how many webhook deliveries the webhook job has stored, so the
 *    providers part can let the queue drain between runs;
 *  - `/__bench/export/*`: a year of data seeded into one store, and the export part's reference read
 *    (./export-year.ts).
 * Everything else, including /health, uploads and the read API, is the production app unchanged.
 */
import { createApp } from "../src/app";
import { requireAuth } from "../src/auth/middleware";
import { prepareSession } from "../src/auth/sessions";
import { getDb } from "../src/db/client";
import production from "../src/index";
import { createUser } from "../src/users/users";
import { benchExportRoutes } from "./export-year";

export { HealthStore, OAuthState, RateLimiter } from "../src/index";

const BARE_PATH = "/__bench/bare";
const STACK_PATH = "/v1/__bench/stack";
const UNLIMITED_STACK_PATH = "/__bench/stack";
const AUTHED_PATH = "/v1/__bench/authed";
const SESSION_PATH = "/__bench/session";
const WEBHOOK_EVENTS_PATH = "/__bench/webhook-events";

// All bench routes answer the same body so the comparison is about the path taken, not bytes.
const body = () => ({ ok: true });

const app = createApp();

app.get(STACK_PATH, (c) => c.json(body()));
app.route("/__bench/export", benchExportRoutes());
app.get(UNLIMITED_STACK_PATH, (c) => c.json(body()));
app.get(AUTHED_PATH, requireAuth(), (c) => c.json(body()));
// A user and session written directly (the ceremony is not what this bench measures).
app.post(SESSION_PATH, async (c) => {
  const db = getDb(c.env.DB);
  const audit = { actor: "bench", role: "system" as const, reason: null, requestId: null, ip: null };
  const user = await createUser({ db }, { username: `bench-${crypto.randomUUID()}`, displayName: "Bench" }, audit);
  const { writes, body: tokens } = await prepareSession({ db, config: c.var.config }, user, "interactive", "bench");
  const [first, ...rest] = writes;
  if (first) await db.batch([first, ...rest]);
  return c.json({ accessToken: tokens.accessToken });
});

app.get(WEBHOOK_EVENTS_PATH, async (c) => {
  const row = await c.env.DB.prepare("SELECT count(*) AS stored FROM webhook_events").first<{ stored: number }>();
  return c.json({ stored: row?.stored ?? 0 });
});

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === BARE_PATH) return Response.json(body());
    return app.fetch(request, env, ctx);
  },
  queue: production.queue,
  scheduled: production.scheduled,
} satisfies ExportedHandler<Env>;
