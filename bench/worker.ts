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
 *  - `POST /__bench/grant`: a patient's current consent and a grant to a grantee, written straight
 *    into D1 as accepting the terms and redeeming an invitation would, for the sharing part.
 *  - `POST /__bench/audit/seed?events=`, `POST /__bench/audit/{sealed,live,prepare,floor}?userId=`:
 *    a user with a long sealed audit chain, and each verification of it (bench/audit.mjs).
 *  - `/__bench/export/*`: a year of data seeded into one store, and the export part's reference read
 *    (./export-year.ts).
 *  - `/__bench/fhir/seed`: a year of minute heart rate and 90 days of CGM for the fhir and
 *    narratives parts (./fhir-year.ts).
 *  - `GET /__bench/counters`, `POST /__bench/counters/reset`: the Worker's own counts of D1, R2,
 *    queue and Durable Object calls per request kind (./counters.ts), for the load part. Every
 *    binding the app, the queue consumer, the cron and the Durable Objects see is wrapped by it.
 *  - `POST /__bench/session/later` `{sessionId}`: the session as it is ten minutes after its last
 *    use (last seen ten minutes ago: past the touch interval, within the idle limit; out of this
 *    isolate's session cache), so the load part's next step is the next use of a person's day,
 *    not a request a second later (not counted as load).
 *  - `POST /__bench/storage` `{userIds}`: bytes stored: D1's database size, R2's objects, and the
 *    SQLite size of each listed user's HealthStore (not counted as load).
 * Everything else, including /health, uploads and the read API, is the production app unchanged.
 */
import { eq } from "drizzle-orm";
import { createApp } from "../src/app";
import { verifyUserAudit } from "../src/auditor/verify";
import { forgetRecentSessionUse } from "../src/auth/activity";
import { requireAuth } from "../src/auth/middleware";
import { forgetSession } from "../src/auth/session-cache";
import { prepareSession } from "../src/auth/sessions";
import { CURRENT_CONSENT_VERSIONS } from "../src/consent/consents";
import { getDb } from "../src/db/client";
import { newId } from "../src/db/ids";
import { CONSENT_DOCUMENTS, consents, grants, sessions } from "../src/db/schema";
import production from "../src/index";
import { countWebhookEvents } from "../src/providers/webhooks/events";
import { createUser } from "../src/users/users";
import type { BenchHealthStore } from "./audit-store";
import {
  CountedAuthActivity,
  CountedHealthStore,
  CountedOAuthState,
  CountedRateLimiter,
  CountedWebhookLedger,
} from "./counted-objects";
import { countDelivery, countedEnv, countRequest, resetCounters, snapshotCounters } from "./counters";
import { benchExportRoutes } from "./export-year";
import { benchFhirRoutes } from "./fhir-year";

export {
  CountedAuthActivity as AuthActivity,
  CountedHealthStore as HealthStore,
  CountedOAuthState as OAuthState,
  CountedRateLimiter as RateLimiter,
  CountedWebhookLedger as WebhookLedger,
};

const BARE_PATH = "/__bench/bare";
const STACK_PATH = "/v1/__bench/stack";
const UNLIMITED_STACK_PATH = "/__bench/stack";
const AUTHED_PATH = "/v1/__bench/authed";
const SESSION_PATH = "/__bench/session";
const WEBHOOK_EVENTS_PATH = "/__bench/webhook-events";
const GRANT_PATH = "/__bench/grant";
const COUNTERS_PATH = "/__bench/counters";
const STORAGE_PATH = "/__bench/storage";

// All bench routes answer the same body so the comparison is about the path taken, not bytes.
const body = () => ({ ok: true });

const app = createApp();

app.get(STACK_PATH, (c) => c.json(body()));
app.route("/__bench/export", benchExportRoutes());
app.route("/__bench/fhir", benchFhirRoutes());
app.get(UNLIMITED_STACK_PATH, (c) => c.json(body()));
app.get(AUTHED_PATH, requireAuth(), (c) => c.json(body()));
// A user and session written directly (the ceremony is not what this bench measures); `?role=`
// a grantee role for the sharing part.
app.post(SESSION_PATH, async (c) => {
  const db = getDb(c.env.DB);
  const audit = { actor: "bench", role: "system" as const, reason: null, requestId: null, ip: null };
  const role = c.req.query("role") === "clinician" ? "clinician" : "patient";
  const user = await createUser({ db }, { username: `bench-${crypto.randomUUID()}`, displayName: "Bench", role }, audit);
  const { writes, body: tokens } = await prepareSession({ db, config: c.var.config }, user, "interactive", "bench");
  const [first, ...rest] = writes;
  if (first) await db.batch([first, ...rest]);
  return c.json({
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    userId: user.id,
    sessionId: tokens.sessionId,
  });
});

app.post(GRANT_PATH, async (c) => {
  const { patientId, granteeId, categories } = await c.req.json<{ patientId: string; granteeId: string; categories: string[] }>();
  const db = getDb(c.env.DB);
  const now = new Date();
  await db.batch([
    db.insert(consents).values(
      CONSENT_DOCUMENTS.map((document) => ({
        id: newId("cns"),
        userId: patientId,
        document,
        version: CURRENT_CONSENT_VERSIONS[document],
        acceptedAt: now,
      })),
    ),
    db.insert(grants).values({
      id: newId("grt"),
      invitationId: newId("inv"),
      patientId,
      granteeId,
      role: "clinician",
      categories,
      expiresAt: new Date(now.getTime() + 86_400_000),
      createdAt: now,
    }),
  ]);
  return c.json({ ok: true });
});

// Stored deliveries live in the WebhookLedger's shards, not D1: the count asks every shard.
app.get(WEBHOOK_EVENTS_PATH, async (c) => c.json({ stored: await countWebhookEvents(c.env) }));

// The audit part (bench/audit.mjs): each call is timed by the client, across the RPC.
const benchStore = (env: Env, userId: string) =>
  (env.HEALTH_STORE as unknown as DurableObjectNamespace<BenchHealthStore>).get(env.HEALTH_STORE.idFromName(userId));
app.post("/__bench/audit/seed", async (c) => {
  const events = Number(c.req.query("events") ?? 0);
  const db = getDb(c.env.DB);
  const audit = { actor: "bench", role: "system" as const, reason: null, requestId: null, ip: null };
  const user = await createUser({ db }, { username: `bench-${crypto.randomUUID()}`, displayName: "Bench" }, audit);
  const store = benchStore(c.env, user.id);
  const seeded = await store.benchSeedAudit(user.id, events);
  return c.json({ userId: user.id, events: seeded, chunks: await store.benchSealAll() });
});
app.post("/__bench/audit/sealed", async (c) => c.json(await verifyUserAudit(c.env, c.req.query("userId") ?? "")));
app.post("/__bench/audit/live", async (c) => {
  const result = await benchStore(c.env, c.req.query("userId") ?? "").verifyAudit();
  return c.json(result.ok ? { ok: result.value.ok, count: result.value.count } : { ok: false, count: 0 });
});
app.post("/__bench/audit/prepare", async (c) =>
  c.json({ inputs: await benchStore(c.env, c.req.query("userId") ?? "").benchPrepareFloor() }),
);
app.post("/__bench/audit/floor", async (c) =>
  c.json({ hashed: await benchStore(c.env, c.req.query("userId") ?? "").benchHashFloor() }),
);

/** What is stored, read with the raw env so that measuring it is not counted as load. */
async function storedBytes(env: Env, userIds: string[]) {
  const d1 = await env.DB.prepare("SELECT 1").run();
  let r2Bytes = 0;
  let r2Objects = 0;
  let cursor: string | undefined;
  do {
    const page = await env.LAKE.list({ cursor, limit: 1000 });
    for (const object of page.objects) r2Bytes += object.size;
    r2Objects += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  const stores = env.HEALTH_STORE as unknown as DurableObjectNamespace<CountedHealthStore>;
  const sizes = await Promise.all(userIds.map((id) => stores.get(stores.idFromName(id)).benchDatabaseSize()));
  return {
    d1Bytes: d1.meta.size_after,
    d1BytesPerUploadRow: await uploadRowBytes(env.DB),
    r2Bytes,
    r2Objects,
    healthStoreBytes: sizes.reduce((a, b) => a + b, 0),
  };
}

/**
 * What one more `uploads` row costs D1, indexes included: every row the run wrote is copied once
 * (a new id and file hash, the rest as it is), the database's size compared, and the copies
 * deleted. Upload rows are what D1 keeps for every file ever sent (docs/scale.md), so the capacity
 * model takes its growth from this rather than from an estimate. Null with no uploads to copy.
 */
async function uploadRowBytes(db: D1Database): Promise<number | null> {
  const { results: columns } = await db.prepare("PRAGMA table_info(uploads)").all<{ name: string }>();
  const names = columns.map((column) => column.name);
  const copied = names.map((name) =>
    name === "id" ? "'benchcopy_' || id" : name === "sha256" ? "lower(hex(randomblob(32)))" : `"${name}"`,
  );
  const before = (await db.prepare("SELECT count(*) AS n FROM uploads").run<{ n: number }>()).meta.size_after;
  const insert = await db
    .prepare(`INSERT INTO uploads (${names.map((name) => `"${name}"`).join(", ")}) SELECT ${copied.join(", ")} FROM uploads`)
    .run();
  const rows = insert.meta.changes;
  const after = insert.meta.size_after;
  await db.prepare("DELETE FROM uploads WHERE substr(id, 1, 10) = 'benchcopy_'").run();
  return rows > 0 ? (after - before) / rows : null;
}

/** Ten minutes pass for one session: last seen ten minutes ago, and no longer cached in this isolate. */
async function sessionLater(env: Env, sessionId: string) {
  await getDb(env.DB)
    .update(sessions)
    .set({ lastSeenAt: new Date(Date.now() - 600_000) })
    .where(eq(sessions.id, sessionId));
  forgetSession(sessionId);
  forgetRecentSessionUse(sessionId);
  return Response.json(body());
}

/** The load part's request kinds (bench/population.mjs), by method and path. */
function requestKind(method: string, path: string): string {
  if (path === SESSION_PATH) return "session";
  if (path === "/v1/uploads" && method === "POST") return "upload";
  if (path.startsWith("/v1/uploads/") && method === "GET") return "upload-status";
  if (path === "/v1/observations/latest") return "latest";
  if (path === "/v1/summary/daily") return "summary";
  if (path === "/v1/observations") return "series";
  if (path === "/v1/auth/refresh") return "refresh";
  return "other";
}

export default {
  fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    if (path === BARE_PATH) return Response.json(body());
    // The counters themselves are read with the raw env and not counted.
    if (path === COUNTERS_PATH && request.method === "GET") return Response.json(snapshotCounters());
    if (path === `${COUNTERS_PATH}/reset` && request.method === "POST") {
      resetCounters();
      return Response.json(body());
    }
    if (path === `${SESSION_PATH}/later` && request.method === "POST") {
      return request.json<{ sessionId: string }>().then(({ sessionId }) => sessionLater(env, sessionId));
    }
    if (path === STORAGE_PATH && request.method === "POST") {
      return request
        .json<{ userIds: string[] }>()
        .then(({ userIds }) => storedBytes(env, userIds))
        .then((r) => Response.json(r));
    }
    const kind = requestKind(request.method, path);
    countRequest(kind);
    return app.fetch(request, countedEnv(env, kind), ctx);
  },
  queue(batch, env, ctx) {
    const kind = `queue:${batch.queue}`;
    countRequest(kind);
    countDelivery(kind, batch.queue, batch.messages.length);
    return production.queue(batch, countedEnv(env, kind), ctx);
  },
  scheduled(controller, env, ctx) {
    countRequest("scheduled");
    return production.scheduled(controller, countedEnv(env, "scheduled"), ctx);
  },
} satisfies ExportedHandler<Env>;
