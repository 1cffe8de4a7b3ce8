import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import { connections } from "../../src/db/schema";
import { saveConnection } from "../../src/providers/connections";
import type { ProviderWebhookMessage } from "../../src/providers/messages";
import {
  deleteWebhookEvents,
  ledgerShard,
  ledgerShardOfEvent,
  recordDelivery,
  storeQueuedDeliveries,
  WEBHOOK_LEDGER_SHARDS,
} from "../../src/providers/webhooks/events";
import { processWebhookEvents } from "../../src/providers/webhooks/process-event";
import type { VerifiedDelivery } from "../../src/providers/webhooks/types";
import { call } from "./helpers/test-app";
import {
  connectedAccount,
  connectionsContext,
  db,
  eventById,
  eventsAbout,
  ledgerOf,
  polarHeaders,
  recordingQueue,
  SYSTEM,
} from "./helpers/webhooks";

/**
 * The webhook ledger (durable-objects/webhook-ledger.ts) as its callers see it: deliveries write no
 * D1 row, a dedup key is decided in its one shard (also between concurrent re-deliveries), each
 * shard's alarm re-sends what got stuck and purges what expired, and a person's deletion finds
 * their events in whichever shards hold them. Real local D1, R2, queues and Durable Objects.
 */
const app = createApp();
const DAY = 24 * 60 * 60 * 1000;

/**
 * The real local D1 behind a count of the statements run through it, by kind. Wraps prepared
 * statements (and hands the real ones to `batch`), which is every path Drizzle and the code take.
 */
function countingD1(inner: D1Database) {
  const counts = { reads: 0, writes: 0 };
  const real = new WeakMap<object, D1PreparedStatement>();
  const sqlOf = new WeakMap<object, string>();
  const tally = (sql: string) => {
    if (/^\s*(insert|update|delete|replace|create|drop|alter)\b/i.test(sql)) counts.writes++;
    else counts.reads++;
  };
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const wrapped = new Proxy(statement, {
      get(target, property) {
        if (property === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        if (property === "run" || property === "all" || property === "first" || property === "raw") {
          return (...args: unknown[]) => {
            tally(sql);
            return (target[property] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    real.set(wrapped, statement);
    sqlOf.set(wrapped, sql);
    return wrapped;
  };
  const database = new Proxy(inner, {
    get(target, property) {
      if (property === "prepare") {
        return (sql: string) => wrap(target.prepare(sql), sql);
      }
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          for (const statement of statements) tally(sqlOf.get(statement) ?? "");
          return target.batch(statements.map((statement) => real.get(statement) ?? statement));
        };
      }
      if (property === "exec") {
        return (sql: string) => {
          tally(sql);
          return target.exec(sql);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { database, counts };
}

async function polarDelivery(account: string, extra: Record<string, string> = {}) {
  const body = JSON.stringify({
    event: "SLEEP",
    user_id: account,
    timestamp: new Date().toISOString(),
    entity_id: crypto.randomUUID(),
    date: "2026-11-20",
    ...extra,
  });
  return { body, headers: await polarHeaders(body) };
}

/** The delivery's message as the route queues it. */
async function routed(body: string, headers: Record<string, string>, bindings: Partial<Env> = {}) {
  const ingest = recordingQueue();
  const res = await call(app, "/webhooks/polar", { method: "POST", body, headers }, { ...bindings, WEBHOOKS: ingest });
  expect(res.status).toBe(200);
  expect(ingest.sent).toHaveLength(1);
  return ingest.sent[0] as ProviderWebhookMessage & { delivery: NonNullable<ProviderWebhookMessage["delivery"]> };
}

async function processed(messages: readonly ProviderWebhookMessage[], bindings: Partial<Env> = {}) {
  const sync = recordingQueue();
  const merged = { ...env, ...bindings, SYNC: sync };
  const outcomes = await processWebhookEvents({ db: getDb(merged.DB), env: merged }, messages, new Date());
  return { outcomes, syncs: sync.sent };
}

/** A queued delivery's message, written as the route writes it, received at `receivedAt`. */
function message(delivery: VerifiedDelivery, receivedAt: Date, body = "{}"): ProviderWebhookMessage {
  return {
    type: "provider.webhook",
    provider: delivery.provider,
    webhookEventId: `${newId("whe")}_${ledgerShard(delivery.provider, delivery.dedupKey)}`,
    delivery: {
      dedupKey: delivery.dedupKey,
      eventType: delivery.eventType,
      authenticity: delivery.authenticity,
      hints: delivery.hints,
      receivedAt: receivedAt.toISOString(),
      payload: btoa(body),
      contentType: "application/json",
    },
  };
}

const hint = (providerUserId: string) => ({
  providerUserId,
  dataType: "sleep",
  operation: "upsert" as const,
  date: "2026-11-20",
});
const delivery = (provider: "polar" | "oura", ...accounts: string[]): VerifiedDelivery => ({
  kind: "delivery",
  provider,
  dedupKey: `${provider}:${crypto.randomUUID()}`,
  eventType: "sleep.upsert",
  authenticity: "signed",
  hints: accounts.map(hint),
});

describe("no D1 write per delivery", () => {
  it("a delivery through the route and the webhook job writes nothing to D1, and its re-delivery neither", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { connectionId } = await connectedAccount("polar", account);
    const { database, counts } = countingD1(env.DB);
    const { body, headers } = await polarDelivery(account);

    const first = await routed(body, headers, { DB: database });
    const again = await routed(body, await polarHeaders(body), { DB: database });
    const job = await processed([first], { DB: database });
    const replay = await processed([again], { DB: database });

    expect(job).toEqual({ outcomes: ["processed"], syncs: [expect.objectContaining({ connectionId, reason: "webhook" })] });
    expect(replay).toEqual({ outcomes: ["skipped"], syncs: [] });
    expect(await eventById(first.webhookEventId)).toMatchObject({ status: "processed", connectionId });
    // The job read the connection (the proxy sees D1), and wrote nothing.
    expect(counts.reads).toBeGreaterThan(0);
    expect(counts.writes).toBe(0);
  });
});

describe("the dedup key, decided in its shard", () => {
  it("sends every delivery of one event to the shard its key hashes to, and stores it once there", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    await connectedAccount("polar", account);
    const { body, headers } = await polarDelivery(account);
    const first = await routed(body, headers);
    const again = await routed(body, await polarHeaders(body));
    const shard = ledgerShard("polar", first.delivery.dedupKey);
    expect(shard).toBeGreaterThanOrEqual(0);
    expect(shard).toBeLessThan(WEBHOOK_LEDGER_SHARDS);
    expect([ledgerShardOfEvent(first.webhookEventId), ledgerShardOfEvent(again.webhookEventId)]).toEqual([shard, shard]);

    expect((await processed([first])).outcomes).toEqual(["processed"]);
    expect((await processed([again])).outcomes).toEqual(["skipped"]);
    // A third copy, too large for a message, takes the row-first path and meets the same row.
    const large = { body: new TextEncoder().encode(body), contentType: "application/json" };
    const stored = await recordDelivery(
      { db, env: { ...env, WEBHOOKS: recordingQueue() } },
      { ...first.delivery, kind: "delivery", provider: "polar" },
      large,
      new Date(),
    );
    expect(stored).toEqual({ eventId: first.webhookEventId, duplicate: true });
    expect((await eventsAbout("polar", account)).map((row) => row.id)).toEqual([first.webhookEventId]);
  });

  it("processes exactly one of concurrent re-deliveries of one event", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { connectionId } = await connectedAccount("polar", account);
    const { body } = await polarDelivery(account);
    const copies = await Promise.all(Array.from({ length: 5 }, async () => routed(body, await polarHeaders(body))));
    expect(new Set(copies.map((copy) => copy.webhookEventId)).size).toBe(5);

    // Each copy in a job of its own, all at once, as separate consumer invocations would run them.
    const runs = await Promise.all(copies.map((copy) => processed([copy])));
    expect(runs.flatMap((run) => run.outcomes).sort()).toEqual(["processed", "skipped", "skipped", "skipped", "skipped"]);
    expect(runs.flatMap((run) => run.syncs)).toEqual([expect.objectContaining({ connectionId })]);
    expect(await eventsAbout("polar", account)).toHaveLength(1);
  });
});

describe("a delivery queued before events left D1", () => {
  it("is stored once in its key's shard and processed, though its id names no shard", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { connectionId } = await connectedAccount("polar", account);
    const { body, headers } = await polarDelivery(account);
    const queued = await routed(body, headers);
    const legacy = { ...queued, webhookEventId: newId("whe") };
    expect(ledgerShardOfEvent(legacy.webhookEventId)).toBeNull();

    expect(await processed([legacy])).toEqual({ outcomes: ["processed"], syncs: [expect.objectContaining({ connectionId })] });
    // Queues' at-least-once retry of the same message, and the provider's re-delivery, change nothing.
    expect((await processed([legacy])).outcomes).toEqual(["skipped"]);
    expect((await processed([queued])).outcomes).toEqual(["skipped"]);
    const [row] = await eventsAbout("polar", account);
    expect(row).toMatchObject({ status: "processed", connectionId });
    expect(ledgerShardOfEvent(row?.id ?? "")).toBe(ledgerShard("polar", queued.delivery.dedupKey));
  });
});

describe("each shard's alarm", () => {
  it("re-sends an event left without a message and one unprocessed an hour after its message; the job then settles both", async () => {
    const unsent = delivery("polar", `polar-nobody-${crypto.randomUUID()}`);
    const unprocessed = delivery("polar", `polar-nobody-${crypto.randomUUID()}`);
    const now = Date.now();
    // Written by the dead-letter path (no message) ten minutes ago; and queued two hours ago, never processed.
    const lost = message(unsent, new Date(now - 10 * 60_000));
    const stale = message(unprocessed, new Date(now - 2 * 60 * 60_000));
    await storeQueuedDeliveries(env, [lost], new Date(now - 10 * 60_000), { enqueuedAt: null });
    await storeQueuedDeliveries(env, [stale], new Date(now - 2 * 60 * 60_000));
    const ids = [lost.webhookEventId, stale.webhookEventId];

    for (const id of ids) {
      // The first write set the shard's alarm; running it is what the next five minutes would do.
      expect(await runInDurableObject(ledgerOf(id), (_instance, state) => state.storage.getAlarm())).not.toBeNull();
      expect(await runDurableObjectAlarm(ledgerOf(id))).toBe(true);
      expect(await eventById(id)).toMatchObject({ sweeps: 1 });
    }
    // The re-sent messages went to the real WEBHOOKS queue: its consumer runs the job, which finds
    // nobody connected and drops them.
    await vi.waitFor(
      async () => {
        for (const id of ids) expect(await eventById(id)).toMatchObject({ status: "dropped", sweeps: 1 });
      },
      { timeout: 15_000, interval: 100 },
    );
  });

  it("purges rows and payloads past 30 days", async () => {
    const old = delivery("oura", `oura-${crypto.randomUUID()}`);
    const at = new Date(Date.now() - 31 * DAY);
    const queued = message(old, at, '{"old":true}');
    const [row] = (await storeQueuedDeliveries(env, [queued], at)).values();
    await env.LAKE.put(row?.r2Key ?? "", "{}");
    expect(await runDurableObjectAlarm(ledgerOf(queued.webhookEventId))).toBe(true);
    expect(await eventById(queued.webhookEventId)).toBeUndefined();
    expect(await env.LAKE.head(row?.r2Key ?? "")).toBeNull();
  });
});

describe("deleting one person's deliveries", () => {
  it("removes their rows and payloads from every shard holding them, and only theirs", async () => {
    const ada = { polar: `polar-${crypto.randomUUID()}`, oura: `oura-${crypto.randomUUID()}` };
    const { userId } = await connectedAccount("polar", ada.polar);
    const other = `polar-${crypto.randomUUID()}`;
    await connectedAccount("polar", other);
    const tokens = { accessToken: "access", refreshToken: "refresh", accessTokenExpiresAt: null, scopes: null };
    await saveConnection(connectionsContext, { userId, provider: "oura", providerUserId: ada.oura, tokens }, SYSTEM);

    const now = new Date();
    const hers = [
      ...Array.from({ length: 12 }, () => delivery("polar", ada.polar)),
      ...Array.from({ length: 4 }, () => delivery("oura", ada.oura)),
      // A batch naming her account and someone else's.
      delivery("polar", other, ada.polar),
    ];
    const theirs = [delivery("polar", other), delivery("polar", other)];
    const messages = [...hers, ...theirs].map((each) => message(each, now, JSON.stringify({ about: each.hints })));
    const stored = await storeQueuedDeliveries(env, messages, now);
    for (const row of stored.values()) await env.LAKE.put(row.r2Key, "{}");
    const herIds = messages.slice(0, hers.length).map((each) => each.webhookEventId);
    expect(new Set(herIds.map(ledgerShardOfEvent)).size).toBeGreaterThan(5);

    expect(await deleteWebhookEvents(env, { userId })).toEqual({ deleted: hers.length });
    for (const id of herIds) {
      expect(await eventById(id)).toBeUndefined();
      expect(await env.LAKE.head(stored.get(id)?.r2Key ?? "")).toBeNull();
    }
    for (const each of messages.slice(hers.length)) {
      expect(await eventById(each.webhookEventId)).toBeDefined();
      expect(await env.LAKE.head(stored.get(each.webhookEventId)?.r2Key ?? "")).not.toBeNull();
    }
    expect(await eventsAbout("polar", ada.polar)).toEqual([]);
    expect(await deleteWebhookEvents(env, { userId })).toEqual({ deleted: 0 });
  });

  it("finds an event resolved to the person after their connection changed account", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { userId, connectionId } = await connectedAccount("polar", account);
    const { body, headers } = await polarDelivery(account);
    const queued = await routed(body, headers);
    expect((await processed([queued])).outcomes).toEqual(["processed"]);
    const { r2Key } = (await eventById(queued.webhookEventId)) ?? { r2Key: "" };
    expect(await env.LAKE.head(r2Key)).not.toBeNull();
    // Reconnected as another provider account: the old one no longer names her, the event still does.
    await db
      .update(connections)
      .set({ providerUserId: `polar-${crypto.randomUUID()}` })
      .where(eq(connections.id, connectionId));

    expect(await deleteWebhookEvents(env, { userId, provider: "polar" })).toEqual({ deleted: 1 });
    expect(await eventById(queued.webhookEventId)).toBeUndefined();
    expect(await env.LAKE.head(r2Key)).toBeNull();
  });
});
