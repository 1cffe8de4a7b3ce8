import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../../src/audit/event";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { connections, securityEvents } from "../../src/db/schema";
import { connectionTokens, listConnections, markConnectionStatus, saveConnection } from "../../src/providers/connections";
import type { ProviderRefreshMessage, ProviderSyncMessage } from "../../src/providers/messages";
import { PROVIDERS } from "../../src/providers/registry";
import type { SyncDeps } from "../../src/providers/sync/context";
import { providerRefreshJobFor, providerSyncJobFor } from "../../src/providers/sync/jobs";
import { SYNC_STORE_ACTOR } from "../../src/providers/sync/store";
import type { SyncLimits } from "../../src/providers/sync/sync";
import { tokenKeyringFor } from "../../src/providers/tokens";
import { backoffSeconds, defineJob, handleQueueBatch, type JobRegistry, QUEUES } from "../../src/queues/consumer";
import { FakeOura, heartRateSamples, TEST_DRIVER_CONTEXT, testOuraDriver } from "./helpers/fake-oura";
import { createSessionUser, type SessionUser } from "./helpers/session-user";

/**
 * The SYNC queue's provider jobs end to end in workerd: the real consumer, D1, HealthStore and read
 * API, with only the provider's HTTP API answered by a `fetch` interceptor (./helpers/fake-oura.ts).
 */
const db = getDb(env.DB);
const keyring = await tokenKeyringFor(getConfig(env));
const SYSTEM: AuditContext = { actor: "test", role: "system", reason: null, requestId: null, ip: null };
const DAY_START = new Date("2026-11-01T00:00:00Z");
const DAY_END = new Date("2026-11-02T00:00:00Z");
const FIRST_SAMPLE = new Date("2026-11-01T08:00:00Z");

let oura: FakeOura;
let deps: Partial<SyncDeps>;

beforeEach(() => {
  oura = new FakeOura();
  deps = { driverFor: () => testOuraDriver, driverContext: () => TEST_DRIVER_CONTEXT };
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    return new URL(request.url).origin === "https://api.ouraring.com" ? oura.handle(request) : realFetch(request);
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A SYNC queue that keeps what jobs send (continuations, refreshes) for the test to deliver. */
function capturingQueue(sent: unknown[], batches: number[] = []): Queue {
  return {
    send: async (body: unknown) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest>) => {
      const list = [...messages];
      batches.push(list.length);
      for (const message of list) sent.push(message.body);
    },
  } as unknown as Queue;
}

interface Delivery {
  body: unknown;
  attempts?: number;
}

/** Delivers messages to the real consumer with this file's driver; returns acks, retries and what was sent. */
async function deliver(
  deliveries: Delivery[],
  limits: SyncLimits = { maxPages: 10, maxMillis: 60_000 },
  queue: string = QUEUES.sync,
) {
  const registries: Record<string, JobRegistry> = {
    [QUEUES.sync]: {
      "provider.sync": defineJob(providerSyncJobFor(deps, limits)),
      "provider.refresh": defineJob(providerRefreshJobFor(deps)),
    },
  };
  const sent: unknown[] = [];
  const batch = createMessageBatch<unknown>(
    queue,
    deliveries.map((delivery, index) => ({
      id: `msg-${index}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: delivery.attempts ?? 1,
      body: delivery.body,
    })),
  );
  // getQueueResult names retried messages but not their delay: record what the consumer asked for.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    vi.spyOn(message, "retry").mockImplementation((options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    });
  }
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, { ...env, SYNC: capturingQueue(sent) }, ctx, registries);
  const result = await getQueueResult(batch, ctx);
  const ids = batch.messages.map((message) => message.id);
  return {
    acked: ids.map((id) => result.explicitAcks.includes(id)),
    retries: ids.map((id) =>
      result.retryMessages.some((retry) => retry.msgId === id) ? { delaySeconds: delays.get(id) } : null,
    ),
    sent,
  };
}

interface Connected {
  user: SessionUser;
  connectionId: string;
  account: string;
}

async function connect(samples: number, options: { expiresAt?: Date } = {}): Promise<Connected> {
  const user = await createSessionUser();
  const account = `oura-${crypto.randomUUID()}`;
  oura.addAccount(account, heartRateSamples(FIRST_SAMPLE, samples));
  const saved = await saveConnection(
    { db, keyring },
    { userId: user.user.id, provider: "oura", providerUserId: account, tokens: oura.issue(account, options.expiresAt) },
    SYSTEM,
  );
  return { user, connectionId: saved.id, account };
}

function syncMessage(connected: Connected, range = { since: DAY_START, until: DAY_END }): ProviderSyncMessage {
  return {
    type: "provider.sync",
    connectionId: connected.connectionId,
    userId: connected.user.user.id,
    provider: "oura",
    since: range.since.toISOString(),
    until: range.until.toISOString(),
    reason: "backfill",
  };
}

function refreshMessage(connected: Connected): ProviderRefreshMessage {
  return { type: "provider.refresh", connectionId: connected.connectionId, userId: connected.user.user.id, provider: "oura" };
}

async function connectionRow(connected: Connected) {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, connected.connectionId), eq(connections.userId, connected.user.user.id)));
  if (!row) expect.fail(`no connection ${connected.connectionId}`);
  return row;
}

async function connectionEvents(connected: Connected, action: string) {
  return db
    .select()
    .from(securityEvents)
    .where(and(eq(securityEvents.resource, `connection:${connected.connectionId}`), eq(securityEvents.action, action)));
}

interface ObservationItem {
  metric: string;
  value: number;
  sourceKind: string;
  sourceApp: string;
  sourceRecordId: string;
}

/** The person's heart rate of the synced day, through the public read API. */
async function heartRateOf(user: SessionUser): Promise<ObservationItem[]> {
  const response = await exports.default.fetch(
    `http://localhost/v1/observations?metrics=heart_rate&since=${DAY_START.toISOString()}&until=${DAY_END.toISOString()}&limit=1000`,
    { headers: user.headers },
  );
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: ObservationItem[] }).items;
}

describe("provider.sync", () => {
  it("backfills page by page across continuation messages into the HealthStore, readable through the API", async () => {
    const ada = await connect(10);
    const first = await deliver([{ body: syncMessage(ada) }], { maxPages: 2, maxMillis: 60_000 });
    expect(first.acked).toEqual([true]);
    // Two pages of three stored, then the rest handed to a continuation of the same message.
    // The first page stored data: one narrative refresh is queued (the later pages find it pending).
    expect(first.sent).toEqual([{ type: "narratives.refresh", userId: ada.user.user.id }, syncMessage(ada)]);
    expect(await heartRateOf(ada.user)).toHaveLength(6);
    expect((await connectionRow(ada)).syncCheckpoint).not.toBeNull();

    const second = await deliver([{ body: first.sent[1] }], { maxPages: 2, maxMillis: 60_000 });
    expect(second.acked).toEqual([true]);
    expect(second.sent).toEqual([]);

    const items = await heartRateOf(ada.user);
    expect(items.map((item) => item.value)).toEqual([60, 61, 62, 63, 64, 65, 66, 67, 68, 69]);
    expect(new Set(items.map((item) => `${item.sourceKind}/${item.sourceApp}`))).toEqual(new Set(["provider/oura"]));
    // The continuation resumed at the stored cursor: every page was fetched exactly once.
    expect(oura.dataRequests.map((request) => request.nextToken)).toEqual([null, btoa("3"), btoa("6"), btoa("9")]);
    const row = await connectionRow(ada);
    expect(row.status).toBe("active");
    expect(row.lastSyncAt).not.toBeNull();
    expect(row.syncCheckpoint).toBeNull();
    expect(row.lastErrorCode).toBeNull();
  });

  it("stores the pages of one message together: one HealthStore write and one audit event, not one per page", async () => {
    const ada = await connect(10);
    const result = await deliver([{ body: syncMessage(ada) }]);
    expect(result.acked).toEqual([true]);
    // Four provider pages (3, 3, 3 and 1 samples) fetched, all ten readable.
    expect(oura.dataRequests).toHaveLength(4);
    expect(await heartRateOf(ada.user)).toHaveLength(10);
    const log = await healthStoreFor(env.HEALTH_STORE, ada.user.user.id).accessLog({ limit: 50 });
    const writes = log.items.filter((event) => event.actor === SYNC_STORE_ACTOR);
    expect(writes).toHaveLength(1);
  });

  it("resumes a backfill that crashed mid-way from its checkpoint, without duplicates", async () => {
    const ada = await connect(10);
    // Pages 1 and 2 are stored, then the connection drops while fetching page 3.
    let calls = 0;
    const fetchSpy = vi.mocked(globalThis.fetch);
    const handler = fetchSpy.getMockImplementation();
    fetchSpy.mockImplementation(async (input, init) => {
      const request = new Request(input as RequestInfo, init);
      if (request.url.includes("/heartrate") && ++calls === 3) throw new TypeError("Network connection lost.");
      if (!handler) throw new Error("no fetch handler");
      return handler(request);
    });

    const crashed = await deliver([{ body: syncMessage(ada) }]);
    expect(crashed.acked).toEqual([false]);
    expect(crashed.retries[0]?.delaySeconds).toBe(backoffSeconds(1));
    expect(await heartRateOf(ada.user)).toHaveLength(6);
    expect((await connectionRow(ada)).lastErrorCode).toBe("SYNC_ERROR");

    const resumed = await deliver([{ body: syncMessage(ada), attempts: 2 }]);
    expect(resumed.acked).toEqual([true]);
    // The retry started at page 3 (the checkpoint), never at the beginning.
    expect(oura.dataRequests.map((request) => request.nextToken)).toEqual([null, btoa("3"), btoa("6"), btoa("9")]);
    const items = await heartRateOf(ada.user);
    expect(items).toHaveLength(10);
    expect(new Set(items.map((item) => item.sourceRecordId)).size).toBe(10);
    expect((await connectionRow(ada)).status).toBe("active");

    // A full re-sync of the same day changes nothing: the same source records are duplicates.
    await deliver([{ body: syncMessage(ada) }]);
    expect(await heartRateOf(ada.user)).toHaveLength(10);
  });

  it("retries after the provider's Retry-After when rate limited, and with backoff on a 500", async () => {
    const ada = await connect(4);
    oura.scripted.push(
      () => new Response(JSON.stringify({ detail: "Too Many Requests" }), { status: 429, headers: { "Retry-After": "120" } }),
    );
    const limited = await deliver([{ body: syncMessage(ada) }]);
    expect(limited.acked).toEqual([false]);
    expect(limited.retries[0]?.delaySeconds).toBe(120);
    expect((await connectionRow(ada)).lastErrorCode).toBe("RATE_LIMITED");
    expect((await connectionRow(ada)).status).toBe("active");

    oura.scripted.push(() => Response.json({ detail: "Internal Server Error" }, { status: 500 }));
    const failed = await deliver([{ body: syncMessage(ada), attempts: 3 }]);
    expect(failed.retries[0]?.delaySeconds).toBe(backoffSeconds(3));
    expect((await connectionRow(ada)).lastErrorCode).toBe("PROVIDER_FAILED");

    const recovered = await deliver([{ body: syncMessage(ada), attempts: 4 }]);
    expect(recovered.acked).toEqual([true]);
    expect(await heartRateOf(ada.user)).toHaveLength(4);
    expect((await connectionRow(ada)).lastErrorCode).toBeNull();
  });

  it("stops before the provider's published app budget is spent, and resumes when it renews", async () => {
    // 4 requests an hour, taken at 90%: three pages, then the sync waits rather than earn a 429.
    const facts = {
      ...PROVIDERS.oura,
      sync: { ...PROVIDERS.oura.sync, rateLimits: [{ requests: 4, perSeconds: 3600, per: "app" as const }] },
    };
    deps = { ...deps, driverFor: () => ({ ...testOuraDriver, facts }) };
    oura.pageSize = 1;
    const ada = await connect(5);
    const result = await deliver([{ body: syncMessage(ada) }]);
    expect(result.acked).toEqual([false]);
    expect(result.retries[0]?.delaySeconds).toBeGreaterThan(3500);
    expect(result.retries[0]?.delaySeconds).toBeLessThanOrEqual(3600);
    expect(oura.dataRequests).toHaveLength(3);
    expect(await heartRateOf(ada.user)).toHaveLength(3);
    expect(await connectionRow(ada)).toMatchObject({ status: "active", lastErrorCode: "RATE_LIMITED" });
  });

  it("marks the connection sync_failed with the reason when the queue gives up", async () => {
    const ada = await connect(5);
    // The first page is stored and checkpointed, the second fails on the last attempt.
    oura.scripted.push(null, () => Response.json({ detail: "Internal Server Error" }, { status: 500 }));
    await deliver([{ body: syncMessage(ada), attempts: 5 }]);
    expect((await connectionRow(ada)).syncCheckpoint).not.toBeNull();
    // After max_retries Cloudflare moves the message to the dead-letter queue.
    const dead = await deliver([{ body: syncMessage(ada) }], undefined, QUEUES.syncDlq);
    expect(dead.acked).toEqual([true]);
    const [summary] = await listConnections(db, ada.user.user.id);
    expect(summary).toMatchObject({ status: "sync_failed", lastErrorCode: "RETRIES_EXHAUSTED" });
    expect(summary?.lastErrorMessage).toMatch(
      /Syncing data from the provider failed after every retry\. Last error: PROVIDER_FAILED/,
    );
    // No message will resume that range any more: its checkpoint is gone with it.
    expect((await connectionRow(ada)).syncCheckpoint).toBeNull();
    expect(await connectionEvents(ada, "provider.sync_failed")).toEqual([
      expect.objectContaining({ subject: ada.user.user.id, result: "failure" }),
    ]);

    // The next sync that succeeds makes it active again, and says so in the security chain.
    await deliver([{ body: syncMessage(ada) }]);
    expect(await connectionRow(ada)).toMatchObject({ status: "active", lastErrorCode: null });
    expect(await heartRateOf(ada.user)).toHaveLength(5);
    expect(await connectionEvents(ada, "provider.sync_recovered")).toHaveLength(1);
  });

  it("refreshes a token that expires within 5 minutes before fetching, and once more when the provider refuses one", async () => {
    const ada = await connect(3, { expiresAt: new Date(Date.now() + 2 * 60_000) });
    await deliver([{ body: syncMessage(ada) }]);
    expect(oura.tokenCalls).toBe(1);
    expect(oura.dataRequests.every((request) => request.account === ada.account)).toBe(true);

    // The provider stops honouring the (unexpired) access token: one refresh, then the sync goes on.
    const { accessToken } = await connectionTokens(keyring, await connectionRow(ada));
    oura.expireAccessToken(accessToken);
    const again = await deliver([{ body: syncMessage(ada) }]);
    expect(again.acked).toEqual([true]);
    expect(oura.tokenCalls).toBe(2);
    expect(oura.dataRequests.at(-2)?.account).toBeNull();
    expect(oura.dataRequests.at(-1)?.account).toBe(ada.account);
    expect(await heartRateOf(ada.user)).toHaveLength(3);
  });

  it("marks the connection reauth_required when a refused token cannot be refreshed (invalid_grant), and acks", async () => {
    const ada = await connect(3);
    const { accessToken } = await connectionTokens(keyring, await connectionRow(ada));
    oura.expireAccessToken(accessToken);
    oura.revokeGrant(ada.account);
    const result = await deliver([{ body: syncMessage(ada) }]);
    expect(result.acked).toEqual([true]);
    const row = await connectionRow(ada);
    expect(row.status).toBe("reauth_required");
    expect(row.lastErrorCode).toBe("REFRESH_REJECTED");
    expect(await heartRateOf(ada.user)).toEqual([]);
  });

  it("does nothing for a revoked connection's pending sync", async () => {
    const ada = await connect(3);
    await markConnectionStatus({ db, keyring }, ada.user.user.id, "oura", { status: "revoked" }, SYSTEM);
    const result = await deliver([{ body: syncMessage(ada) }]);
    expect(result.acked).toEqual([true]);
    expect(oura.dataRequests).toEqual([]);
    expect(oura.tokenCalls).toBe(0);
    expect(await heartRateOf(ada.user)).toEqual([]);
  });

  it("keeps two people's connections apart, and ignores a message naming someone else's connection", async () => {
    const ada = await connect(4);
    const bob = await connect(2);
    const forged = { ...syncMessage(ada), userId: bob.user.user.id };
    const result = await deliver([{ body: syncMessage(ada) }, { body: syncMessage(bob) }, { body: forged }]);
    expect(result.acked).toEqual([true, true, true]);
    expect(await heartRateOf(ada.user)).toHaveLength(4);
    expect(await heartRateOf(bob.user)).toHaveLength(2);
    // Each page was fetched with its owner's token; the forged message fetched nothing.
    expect(oura.dataRequests.filter((request) => request.account === ada.account)).toHaveLength(2);
    expect(oura.dataRequests.filter((request) => request.account === bob.account)).toHaveLength(1);
    expect(oura.dataRequests).toHaveLength(3);
  });
});

describe("provider.refresh", () => {
  it("lets only one of two concurrent refreshes call the provider, and stores the rotated refresh token", async () => {
    const ada = await connect(0, { expiresAt: new Date(Date.now() + 10 * 60_000) });
    const before = await connectionTokens(keyring, await connectionRow(ada));
    oura.tokenDelayMs = 200;
    const [one, two] = await Promise.all([deliver([{ body: refreshMessage(ada) }]), deliver([{ body: refreshMessage(ada) }])]);
    expect(oura.tokenCalls).toBe(1);
    // The loser waits for the lease: retried after a short delay, not as a failure with backoff.
    const results = [one, two].map((result) => ({ acked: result.acked[0], delay: result.retries[0]?.delaySeconds ?? null }));
    expect(results).toEqual(
      expect.arrayContaining([
        { acked: true, delay: null },
        { acked: false, delay: 15 },
      ]),
    );

    const after = await connectionTokens(keyring, await connectionRow(ada));
    expect(after.refreshToken).toBe(oura.latestRefreshToken(ada.account));
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    const row = await connectionRow(ada);
    expect(row.refreshLeaseId).toBeNull();
    expect(row.accessExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 60 * 60_000);

    // The retried message finds a token that is no longer due: the provider is not called again.
    const retried = await deliver([{ body: refreshMessage(ada), attempts: 2 }]);
    expect(retried.acked).toEqual([true]);
    expect(oura.tokenCalls).toBe(1);
  });

  it("marks the connection reauth_required on invalid_grant, with a security event", async () => {
    const ada = await connect(0, { expiresAt: new Date(Date.now() + 10 * 60_000) });
    oura.revokeGrant(ada.account);
    const result = await deliver([{ body: refreshMessage(ada) }]);
    expect(result.acked).toEqual([true]);
    const [summary] = await listConnections(db, ada.user.user.id);
    expect(summary).toMatchObject({ status: "reauth_required", lastErrorCode: "REFRESH_REJECTED" });
    const events = await connectionEvents(ada, "provider.refresh_failed");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subject: ada.user.user.id, result: "failure", actor: "system:provider.refresh" });
    expect((await connectionRow(ada)).refreshLeaseId).toBeNull();
  });

  it("retries a transient token failure with backoff and keeps the old tokens", async () => {
    const ada = await connect(0, { expiresAt: new Date(Date.now() + 10 * 60_000) });
    const before = await connectionTokens(keyring, await connectionRow(ada));
    const fetchSpy = vi.mocked(globalThis.fetch);
    const handler = fetchSpy.getMockImplementation();
    fetchSpy.mockImplementation(async (input, init) => {
      const request = new Request(input as RequestInfo, init);
      if (request.url.endsWith("/oauth/token")) return new Response("upstream timeout", { status: 503 });
      if (!handler) throw new Error("no fetch handler");
      return handler(request);
    });
    const result = await deliver([{ body: refreshMessage(ada), attempts: 2 }]);
    expect(result.retries[0]?.delaySeconds).toBe(backoffSeconds(2));
    const row = await connectionRow(ada);
    expect(row.status).toBe("active");
    expect(row.refreshLeaseId).toBeNull();
    expect(await connectionTokens(keyring, row)).toEqual(before);
  });
});
