// The provider connection flow end to end against the real sandbox provider (tools/sandbox-provider,
// started by test/support/sandbox-provider.global.ts): a person connects through Pulse's
// confirmation page and the sandbox's consent page, the backfill runs through the Worker's own
// queue() handler, data is read back through the public read API, and the sandbox's signed
// webhooks, the hourly refresh cron and disconnecting are exercised as a user would meet them.
// Nothing is mocked: the SYNC and WEBHOOKS bindings only keep what is sent, so each message can be
// handed to the real consumer in turn (and a retry's delay observed) rather than racing the
// local queue.
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, inject, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { connections } from "../../src/db/schema";
import worker from "../../src/index";
import { driverContextFor, getProvidersConfig } from "../../src/providers/config";
import { connectionTokens } from "../../src/providers/connections";
import { ProviderOAuthError } from "../../src/providers/oauth";
import { sandboxDriver } from "../../src/providers/sandbox/driver";
import { tokenKeyringFor } from "../../src/providers/tokens";
import { QUEUES } from "../../src/queues/consumer";
import { CRONS } from "../../src/scheduled/handler";
import { answerSandboxConsent, controlSandboxUser, pushSandboxData } from "../support/sandbox-provider-client";
import type { SandboxProviderFixture } from "../support/sandbox-provider-fixture";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call } from "./helpers/test-app";

const sandbox: SandboxProviderFixture = inject("sandboxProvider");
const app = createApp();
const db = getDb(env.DB);
const keyring = await tokenKeyringFor(getConfig(env));
const sandboxContext = driverContextFor(getProvidersConfig(env), "sandbox");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What the Worker sent on SYNC and WEBHOOKS, waiting for the test to hand it to the consumer. */
interface Outbox {
  sync: unknown[];
  webhooks: unknown[];
}

function keeping(list: unknown[]): Queue {
  return {
    send: async (body: unknown) => void list.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      for (const message of messages) list.push(message.body);
    },
  } as unknown as Queue;
}

function bindings(outbox: Outbox): Partial<Env> {
  return { SYNC: keeping(outbox.sync), WEBHOOKS: keeping(outbox.webhooks) };
}

function request(outbox: Outbox, path: string, init: RequestInit = {}): Promise<Response> {
  return call(app, path, init, bindings(outbox));
}

interface Delivered {
  acked: boolean;
  retryDelaySeconds: number | null;
}

/** One message through the Worker's queue() handler, as Cloudflare Queues would deliver it. */
async function consume(outbox: Outbox, queue: string, body: unknown, attempts = 1): Promise<Delivered> {
  const batch = createMessageBatch<unknown>(queue, [{ id: `msg-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body }]);
  const [message] = batch.messages;
  if (!message) throw new Error("empty batch");
  // getQueueResult names a retried message but not its delay: record what the consumer asked for.
  let delay: number | null = null;
  const retry = message.retry.bind(message);
  vi.spyOn(message, "retry").mockImplementation((options?: QueueRetryOptions) => {
    delay = options?.delaySeconds ?? null;
    retry(options);
  });
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...bindings(outbox) }, ctx);
  const result = await getQueueResult(batch, ctx);
  const retried = result.retryMessages.some((r) => r.msgId === message.id);
  return { acked: result.explicitAcks.includes(message.id), retryDelaySeconds: retried ? delay : null };
}

/**
 * Hands every SYNC message (and the continuations they send) to the consumer until none is left
 * or one is retried; answers the retried one with its delay, and how many messages ran.
 */
async function drainSync(
  outbox: Outbox,
  attempts = 1,
): Promise<{ messages: number; retried: { body: unknown; delaySeconds: number | null } | null }> {
  let messages = 0;
  for (let body = outbox.sync.shift(); body !== undefined; body = outbox.sync.shift()) {
    messages++;
    const result = await consume(outbox, QUEUES.sync, body, messages === 1 ? attempts : 1);
    if (!result.acked) return { messages, retried: { body, delaySeconds: result.retryDelaySeconds } };
  }
  return { messages, retried: null };
}

/** The binding cookie's `name=value` from a response. */
function bindingCookie(res: Response): string {
  const cookie = res.headers.getSetCookie().find((value) => value.startsWith("pulse_oauth_binding="));
  if (!cookie) throw new Error("no binding cookie set");
  return cookie.split(";")[0] ?? "";
}

interface Connected {
  user: SessionUser;
  outbox: Outbox;
  /** The sandbox's id of the person's account there. */
  sandboxUserId: string;
  connectionId: string;
}

/** A person connects the sandbox as a browser would: start, confirm, consent, callback. */
async function connectSandbox(account: string, user?: SessionUser): Promise<Connected> {
  const person = user ?? (await createSessionUser());
  const outbox: Outbox = { sync: [], webhooks: [] };
  const started = await request(outbox, "/v1/connections/sandbox", { method: "POST", headers: person.headers });
  expect(started.status, await started.clone().text()).toBe(201);
  const { authorizeUrl } = await started.json<{ authorizeUrl: string }>();
  const link = new URL(authorizeUrl);
  const flow = link.searchParams.get("flow") ?? "";

  // The confirmation page the person opens (no Pulse credential: the link itself is the flow).
  const page = await request(outbox, `${link.pathname}${link.search}`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("Continue to Pulse sandbox");

  const confirmed = await request(outbox, link.pathname, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://localhost" },
    body: new URLSearchParams({ flow, decision: "continue" }).toString(),
  });
  expect(confirmed.status).toBe(303);
  const cookie = bindingCookie(confirmed);
  const toSandbox = new URL(confirmed.headers.get("Location") ?? "");
  expect(toSandbox.origin).toBe(sandbox.origin);

  const back = await answerSandboxConsent(toSandbox, { account, timeZone: "UTC" });
  const done = await request(outbox, `${back.pathname}${back.search}`, { headers: { Cookie: cookie } });
  expect(done.status, await done.clone().text()).toBe(200);
  expect(await done.text()).toContain("Pulse sandbox connected");

  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.userId, person.user.id), eq(connections.provider, "sandbox")));
  if (!row?.providerUserId) throw new Error("no connection stored");
  return { user: person, outbox, sandboxUserId: row.providerUserId, connectionId: row.id };
}

async function getJson<T>(connected: Connected, path: string): Promise<T> {
  const res = await request(connected.outbox, path, { headers: connected.user.headers });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return res.json<T>();
}

interface ConnectionView {
  provider: string;
  status: string;
  lastSyncAt: string | null;
  lastError: { code: string } | null;
}

async function sandboxConnection(connected: Connected): Promise<ConnectionView | undefined> {
  const overview = await getJson<{ connections: ConnectionView[] }>(connected, "/v1/connections");
  return overview.connections.find((c) => c.provider === "sandbox");
}

interface Bucket {
  start: string;
  count: number;
}

/** Heart-rate samples per UTC day through the read API's daily buckets. */
async function heartRatePerDay(connected: Connected, since: Date, until: Date): Promise<Map<string, number>> {
  const page = await getJson<{ items: Bucket[]; nextCursor: string | null }>(
    connected,
    `/v1/observations?metrics=heart_rate&resolution=day&tz=UTC&since=${since.toISOString()}&until=${until.toISOString()}&limit=1000`,
  );
  expect(page.nextCursor).toBeNull();
  return new Map(page.items.map((bucket) => [bucket.start.slice(0, 10), bucket.count]));
}

interface RawObservation {
  start: string;
  sourceApp: string;
  sourceRecordId: string;
}

/** Raw heart rate of `[since, until)` (at most 31 days), every page. */
async function heartRateRaw(connected: Connected, since: Date, until: Date): Promise<RawObservation[]> {
  const items: RawObservation[] = [];
  let cursor: string | null = null;
  do {
    const query = `metrics=heart_rate&since=${since.toISOString()}&until=${until.toISOString()}&limit=5000${cursor ? `&cursor=${cursor}` : ""}`;
    const page: { items: RawObservation[]; nextCursor: string | null } = await getJson(connected, `/v1/observations?${query}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

/** Where the sandbox says the account's data ends (its "synced until" mark). */
async function availableUntil(sandboxUserId: string): Promise<number> {
  const res = await fetch(`${sandbox.origin}/_sandbox/users`);
  const { users } = await res.json<{ users: { user_id: string; available_until: string }[] }>();
  const user = users.find((u) => u.user_id === sandboxUserId);
  if (!user) throw new Error("the sandbox does not know the account");
  return Date.parse(user.available_until);
}

/** Heart-rate samples (one a minute, on the minute) the sandbox has in `[since, until)`, per UTC day. */
function expectedPerDay(since: number, until: number): Map<string, number> {
  const perDay = new Map<string, number>();
  for (let minute = Math.ceil(since / MINUTE) * MINUTE; minute < until; minute += MINUTE) {
    const day = new Date(minute).toISOString().slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  return perDay;
}

/** The stored sandbox webhook payloads (R2 `webhooks/sandbox/{day}/{eventId}.json`). */
async function webhookPayloadKeys(): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await env.LAKE.list({ prefix: "webhooks/sandbox/", ...(cursor ? { cursor } : {}) });
    for (const object of page.objects) keys.add(object.key);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return keys;
}

async function connectionRow(connected: Connected) {
  const [row] = await db.select().from(connections).where(eq(connections.id, connected.connectionId));
  if (!row) throw new Error("connection row gone");
  return row;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** The backfill message the callback queued: `[now - 90 days, now)` for the sandbox. */
function backfillOf(connected: Connected): { since: string; until: string } {
  const message = connected.outbox.sync[0] as { type: string; reason: string; since: string; until: string };
  expect(message).toMatchObject({ type: "provider.sync", reason: "backfill", connectionId: connected.connectionId });
  return message;
}

describe("a new user connects the sandbox and keeps it in sync", () => {
  it("backfills 90 days, follows a webhook, ignores its replay and refuses a forgery, and deletes everything on disconnect", async () => {
    const payloadsBefore = await webhookPayloadKeys();
    const ada = await connectSandbox(`e2e-ada-${crypto.randomUUID()}`);
    expect(await sandboxConnection(ada)).toMatchObject({ status: "active", lastSyncAt: null, lastError: null });
    const backfill = backfillOf(ada);
    const since = Date.parse(backfill.since);
    expect(Date.parse(backfill.until) - since).toBe(90 * DAY);

    const started = performance.now();
    const run = await drainSync(ada.outbox);
    const backfillMs = performance.now() - started;
    expect(run.retried).toBeNull();
    expect((await sandboxConnection(ada))?.lastSyncAt).not.toBeNull();

    // One heart-rate sample a minute from the start of the range to the sandbox's "synced until"
    // mark (an hour before the approval), counted per UTC day by the read API.
    const until = await availableUntil(ada.sandboxUserId);
    const expected = expectedPerDay(since, until + MINUTE);
    const perDay = await heartRatePerDay(ada, new Date(since - DAY), new Date(Date.now() + DAY));
    expect(perDay).toEqual(expected);
    const fullDays = [...perDay.values()].filter((count) => count === 1440).length;
    expect(fullDays).toBeGreaterThanOrEqual(89);
    const total = [...perDay.values()].reduce((sum, count) => sum + count, 0);

    // Nightly sleep with stages and workouts on about half the evenings.
    const sleep = await getJson<{ items: { sourceApp: string; stages: unknown[] }[] }>(
      ada,
      `/v1/sleep?since=${new Date(since).toISOString()}&limit=1000`,
    );
    expect(sleep.items.length).toBeGreaterThanOrEqual(88);
    expect(sleep.items.length).toBeLessThanOrEqual(91);
    expect(sleep.items.every((night) => night.sourceApp === "sandbox" && night.stages.length > 0)).toBe(true);
    const workouts = await getJson<{ items: { sourceApp: string }[] }>(
      ada,
      `/v1/workouts?since=${new Date(since).toISOString()}&limit=1000`,
    );
    expect(workouts.items.length).toBeGreaterThan(20);
    console.log(
      JSON.stringify({
        e2e: "sandbox backfill",
        days: 90,
        heartRate: total,
        sleepSessions: sleep.items.length,
        workouts: workouts.items.length,
        syncMessages: run.messages,
        ms: Math.round(backfillMs),
      }),
    );

    // New data arrives at the sandbox, which signs a webhook; Pulse acknowledges it, the WEBHOOKS job
    // turns it into a sync, and the new samples are readable.
    const push = await pushSandboxData(sandbox.origin, ada.sandboxUserId);
    const pushedUntil = await availableUntil(ada.sandboxUserId);
    expect(pushedUntil).toBeGreaterThan(until);
    const deliver = (headers: Record<string, string> = push.delivery.headers, body = push.delivery.body) =>
      request(ada.outbox, "/webhooks/sandbox", { method: "POST", headers, body });
    const received = await deliver();
    expect(received.status).toBe(200);
    expect(ada.outbox.webhooks).toHaveLength(1);
    for (let job = ada.outbox.webhooks.shift(); job !== undefined; job = ada.outbox.webhooks.shift()) {
      expect((await consume(ada.outbox, QUEUES.webhooks, job)).acked).toBe(true);
    }
    expect(ada.outbox.sync).toEqual([
      expect.objectContaining({ type: "provider.sync", reason: "webhook", connectionId: ada.connectionId }),
    ]);
    expect((await drainSync(ada.outbox)).retried).toBeNull();
    const recent = await heartRateRaw(ada, new Date(until - HOUR), new Date(pushedUntil + MINUTE));
    expect(recent.map((o) => o.start)).toEqual(
      Array.from({ length: (pushedUntil - until) / MINUTE + 61 }, (_, i) => new Date(until - HOUR + i * MINUTE).toISOString()),
    );
    expect(new Set(recent.map((o) => o.sourceRecordId)).size).toBe(recent.length);
    const afterPush = await heartRatePerDay(ada, new Date(since - DAY), new Date(Date.now() + DAY));
    const totalAfterPush = [...afterPush.values()].reduce((sum, count) => sum + count, 0);
    expect(totalAfterPush).toBe(total + (pushedUntil - until) / MINUTE);

    // The same delivery again (a provider retrying): acknowledged, and nothing runs twice.
    const replay = await deliver();
    expect(replay.status).toBe(200);
    for (let job = ada.outbox.webhooks.shift(); job !== undefined; job = ada.outbox.webhooks.shift()) {
      expect((await consume(ada.outbox, QUEUES.webhooks, job)).acked).toBe(true);
    }
    expect(ada.outbox.sync).toEqual([]);

    // A forged signature and a stale one (signed 10 minutes ago) are refused and queue nothing.
    const signedAt = /t=(\d+)/.exec(push.delivery.headers["sandbox-signature"] ?? "")?.[1];
    const forged = { ...push.delivery.headers, "sandbox-signature": `t=${signedAt},v1=${"0".repeat(64)}` };
    const altered = push.delivery.body.replace(ada.sandboxUserId, "sbx_00000000000000000000");
    expect((await deliver(forged)).status).toBe(401);
    expect((await deliver(push.delivery.headers, altered)).status).toBe(401);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 10 * MINUTE });
    try {
      expect((await deliver()).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
    expect(ada.outbox.webhooks).toEqual([]);
    const payloads = [...(await webhookPayloadKeys())].filter((key) => !payloadsBefore.has(key));
    expect(payloads).toHaveLength(1);
    const { accessToken, refreshToken } = await connectionTokens(keyring, await connectionRow(ada));

    // Disconnect and delete: the data, the stored webhook payloads and the grant at the sandbox go.
    const removed = await request(ada.outbox, "/v1/connections/sandbox?data=delete", {
      method: "DELETE",
      headers: ada.user.headers,
    });
    expect(removed.status).toBe(200);
    const body = await removed.json<{ revokedAtProvider: boolean; dataDeleted: { observations: number } }>();
    expect(body.revokedAtProvider).toBe(true);
    expect(body.dataDeleted.observations).toBeGreaterThanOrEqual(totalAfterPush);
    expect((await heartRatePerDay(ada, new Date(since - DAY), new Date(Date.now() + DAY))).size).toBe(0);
    const sleepAfter = await getJson<{ items: unknown[] }>(ada, `/v1/sleep?since=${new Date(since).toISOString()}`);
    expect(sleepAfter.items).toEqual([]);
    const workoutsAfter = await getJson<{ items: unknown[] }>(ada, `/v1/workouts?since=${new Date(since).toISOString()}`);
    expect(workoutsAfter.items).toEqual([]);
    const left = await webhookPayloadKeys();
    expect(payloads.filter((key) => left.has(key))).toEqual([]);
    expect(await sandboxConnection(ada)).toBeUndefined();
    const refused = await rejection(sandboxDriver.profile(sandboxContext, accessToken));
    expect(refused).toMatchObject({ code: "UNAUTHENTICATED" });
    const refreshRefused = await rejection(sandboxDriver.refresh(sandboxContext, refreshToken ?? ""));
    expect((refreshRefused as ProviderOAuthError).oauthError).toBe("invalid_grant");
  }, 240_000);
});

describe("the hourly refresh cron", () => {
  it("refreshes the sandbox token an hour before it expires; the rotated refresh token is stored and the old one is refused", async () => {
    const bea = await connectSandbox(`e2e-bea-${crypto.randomUUID()}`);
    bea.outbox.sync.length = 0;
    const before = await connectionRow(bea);
    const old = await connectionTokens(keyring, before);
    const expiresAt = before.accessExpiresAt?.getTime() ?? 0;
    expect(expiresAt).toBeGreaterThan(Date.now() + 55 * MINUTE);

    // The cron run whose horizon (its scheduled time + 1 hour) reaches this token's expiry.
    const ctx = createExecutionContext();
    const controller = createScheduledController({ cron: CRONS.hourly, scheduledTime: new Date(expiresAt - HOUR) });
    await worker.scheduled(controller, { ...env, ...bindings(bea.outbox) }, ctx);
    await waitOnExecutionContext(ctx);
    const mine = bea.outbox.sync.filter((m) => (m as { connectionId?: string }).connectionId === bea.connectionId);
    expect(mine).toEqual([
      { type: "provider.refresh", connectionId: bea.connectionId, userId: bea.user.user.id, provider: "sandbox" },
    ]);
    bea.outbox.sync.length = 0;
    expect((await consume(bea.outbox, QUEUES.sync, mine[0])).acked).toBe(true);

    const after = await connectionRow(bea);
    const fresh = await connectionTokens(keyring, after);
    expect(fresh.refreshToken).toMatch(/^sbx_rt_/);
    expect(fresh.refreshToken).not.toBe(old.refreshToken);
    expect(fresh.accessToken).not.toBe(old.accessToken);
    expect(after.accessExpiresAt?.getTime()).toBeGreaterThan(expiresAt);
    expect(await sandboxConnection(bea)).toMatchObject({ status: "active", lastError: null });

    // The next sync runs on the new token.
    const since = new Date(Date.now() - DAY).toISOString();
    const queued = await request(bea.outbox, "/v1/connections/sandbox/sync", {
      method: "POST",
      headers: { ...bea.user.headers, "Content-Type": "application/json" },
      body: JSON.stringify({ since }),
    });
    expect(queued.status).toBe(202);
    expect((await drainSync(bea.outbox)).retried).toBeNull();
    const until = await availableUntil(bea.sandboxUserId);
    const samples = await heartRateRaw(bea, new Date(since), new Date(until + MINUTE));
    expect(samples.length).toBe((until - Math.ceil(Date.parse(since) / MINUTE) * MINUTE) / MINUTE + 1);
    expect((await sandboxConnection(bea))?.lastSyncAt).not.toBeNull();

    // The sandbox rotated the refresh token: the one Pulse held before is refused.
    const replay = await rejection(sandboxDriver.refresh(sandboxContext, old.refreshToken ?? ""));
    expect(replay).toBeInstanceOf(ProviderOAuthError);
    expect((replay as ProviderOAuthError).oauthError).toBe("invalid_grant");
  }, 60_000);
});

describe("a backfill meeting the provider's limits and failures", () => {
  it("waits out a 429's Retry-After, resumes from the checkpoint after a 500, and stores every sample once", async () => {
    const cai = await connectSandbox(`e2e-cai-${crypto.randomUUID()}`);
    const since = Date.parse(backfillOf(cai).since);
    // Every data request the Worker sends the sandbox, passed through unchanged.
    const pages: { url: string; status: number }[] = [];
    const realFetch = globalThis.fetch;
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await realFetch(input, init);
      const url = new URL(new Request(input, init).url);
      if (url.origin === sandbox.origin && url.pathname.startsWith("/v1/data/"))
        pages.push({ url: url.href, status: response.status });
      return response;
    });
    try {
      // Three pages in, the sandbox starts answering 429 with Retry-After: 2.
      await controlSandboxUser(sandbox.origin, cai.sandboxUserId, { rateLimit: { remaining: 3, retryAfter: 2 } });
      const limited = await drainSync(cai.outbox);
      expect(limited.retried?.delaySeconds).toBe(2);
      expect(await sandboxConnection(cai)).toMatchObject({ status: "active", lastError: { code: "RATE_LIMITED" } });
      expect(pages.map((page) => page.status)).toEqual([200, 200, 200, 429]);

      // Redelivered after the delay, as Queues would: it goes on from the fourth page.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      cai.outbox.sync.unshift(limited.retried?.body);
      const first = await consume(cai.outbox, QUEUES.sync, cai.outbox.sync.shift(), 2);
      expect(first.acked).toBe(true);
      expect(pages[4]?.url).toBe(pages[3]?.url);
      // The continuation, beside the narrative refresh the stored pages asked for.
      expect(cai.outbox.sync.filter((message) => (message as { type: string }).type === "provider.sync")).toHaveLength(1);

      // The next continuation meets a 500: retried with backoff, then resumed at the failed page.
      await controlSandboxUser(sandbox.origin, cai.sandboxUserId, { failNext: 500 });
      const failed = await drainSync(cai.outbox);
      expect(failed.retried?.delaySeconds).toBeGreaterThan(0);
      expect(await sandboxConnection(cai)).toMatchObject({ lastError: { code: "PROVIDER_FAILED" } });
      const failedAt = pages.length - 1;
      expect(pages[failedAt]?.status).toBe(500);
      cai.outbox.sync.unshift(failed.retried?.body);
      expect((await drainSync(cai.outbox, 2)).retried).toBeNull();
      expect(pages[failedAt + 1]?.url).toBe(pages[failedAt]?.url);
    } finally {
      spy.mockRestore();
    }

    // Every page was fetched once, apart from the two the sandbox refused.
    const served = pages.filter((page) => page.status === 200).map((page) => page.url);
    expect(new Set(served).size).toBe(served.length);
    expect(pages.length).toBe(served.length + 2);
    expect(await sandboxConnection(cai)).toMatchObject({ status: "active", lastError: null });
    const until = await availableUntil(cai.sandboxUserId);
    expect(await heartRatePerDay(cai, new Date(since - DAY), new Date(Date.now() + DAY))).toEqual(
      expectedPerDay(since, until + MINUTE),
    );
  }, 120_000);
});

describe("two people, two sandbox accounts", () => {
  it("each sees only their own data", async () => {
    const dan = await connectSandbox(`e2e-dan-${crypto.randomUUID()}`);
    const eve = await connectSandbox(`e2e-eve-${crypto.randomUUID()}`);
    expect(dan.sandboxUserId).not.toBe(eve.sandboxUserId);
    // Both backfills interleaved on the queue, as they would be in one batch stream.
    const since = Date.parse(backfillOf(dan).since);
    while (dan.outbox.sync.length > 0 || eve.outbox.sync.length > 0) {
      for (const person of [dan, eve]) {
        const body = person.outbox.sync.shift();
        if (body !== undefined) expect((await consume(person.outbox, QUEUES.sync, body)).acked).toBe(true);
      }
    }
    // One hour read back, compared with what each account holds at the sandbox.
    const until = await availableUntil(dan.sandboxUserId);
    const range = { since: new Date(until - 2 * HOUR), until: new Date(until - HOUR) };
    for (const [person, other] of [
      [dan, eve],
      [eve, dan],
    ] as const) {
      const read = await heartRateRaw(person, range.since, range.until);
      const values = read.map((o) => (o as RawObservation & { value: number }).value);
      const { accessToken } = await connectionTokens(keyring, await connectionRow(person));
      const own = await sandboxDriver.fetchRange(sandboxContext, accessToken, range, null);
      const ownValues = own.records.filter((r) => r.type === "heart_rate").map((r) => (r.payload as { bpm: number }).bpm);
      expect(values).toHaveLength(60);
      expect(values).toEqual(ownValues);
      const theirs = await heartRateRaw(other, range.since, range.until);
      expect(theirs.map((o) => (o as RawObservation & { value: number }).value)).not.toEqual(values);
      // Per day: one sample a minute, never the other person's on top.
      const perDay = await heartRatePerDay(person, new Date(since - DAY), new Date(Date.now() + DAY));
      expect(perDay).toEqual(expectedPerDay(since, (await availableUntil(person.sandboxUserId)) + MINUTE));
      expect((await getJson<{ connections: ConnectionView[] }>(person, "/v1/connections")).connections).toHaveLength(1);
    }
  }, 120_000);
});
