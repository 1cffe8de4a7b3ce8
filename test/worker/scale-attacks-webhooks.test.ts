/**
 * The webhook ledger attacked as a careless producer or a forged queue message would: event ids
 * that name no shard, another shard than their key's, or another event's id. Whatever the id, one
 * event is processed once, and one bad message does not hold up its batch.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { WebhookLedger } from "../../durable-objects/webhook-ledger";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { newId } from "../../src/db/ids";
import type { ProviderWebhookMessage } from "../../src/providers/messages";
import {
  ledgerShard,
  ledgerShardOfEvent,
  recordDelivery,
  storeQueuedDeliveries,
  WEBHOOK_LEDGER_SHARDS,
} from "../../src/providers/webhooks/events";
import { processWebhookEvents } from "../../src/providers/webhooks/process-event";
import type { VerifiedDelivery } from "../../src/providers/webhooks/types";
import { call } from "./helpers/test-app";
import { connectedAccount, db, eventById, eventsAbout, polarHeaders, recordingQueue } from "./helpers/webhooks";

const app = createApp();

async function processed(messages: readonly ProviderWebhookMessage[]) {
  const sync = recordingQueue();
  const merged = { ...env, SYNC: sync };
  const outcomes = await processWebhookEvents({ db: getDb(merged.DB), env: merged }, messages, new Date());
  return { outcomes, syncs: sync.sent };
}

function queued(account: string, webhookEventId?: string, dedupKey = `polar:${crypto.randomUUID()}`): ProviderWebhookMessage {
  return {
    type: "provider.webhook",
    provider: "polar",
    webhookEventId: webhookEventId ?? `${newId("whe")}_${ledgerShard("polar", dedupKey)}`,
    delivery: {
      dedupKey,
      eventType: "SLEEP",
      authenticity: "signed",
      hints: [{ providerUserId: account, dataType: "sleep", operation: "upsert", date: "2026-11-20" }],
      receivedAt: new Date().toISOString(),
      payload: btoa("{}"),
      contentType: "application/json",
    },
  };
}

/** A shard other than `shard`, within range. */
const otherShard = (shard: number) => (shard + 1) % WEBHOOK_LEDGER_SHARDS;

describe("an event id that names no shard of the ledger", () => {
  it("names none when its number is past the last shard", () => {
    expect(ledgerShardOfEvent(`${newId("whe")}_${WEBHOOK_LEDGER_SHARDS - 1}`)).toBe(WEBHOOK_LEDGER_SHARDS - 1);
    expect(ledgerShardOfEvent(`${newId("whe")}_${WEBHOOK_LEDGER_SHARDS}`)).toBeNull();
    expect(ledgerShardOfEvent(`${newId("whe")}_99999`)).toBeNull();
    expect(ledgerShardOfEvent(`${newId("whe")}_-1`)).toBeNull();
    expect(ledgerShardOfEvent(`${newId("whe")}_x1`)).toBeNull();
  });

  for (const [label, suffix] of [
    ["past the last shard", (_shard: number) => "99999"],
    ["another shard than its key's", (shard: number) => String(otherShard(shard))],
    ["a negative shard", (_shard: number) => "-1"],
    ["no number", (_shard: number) => "abc"],
  ] as const) {
    it(`processes one event once when a copy's id names ${label}`, async () => {
      const account = `polar-${crypto.randomUUID()}`;
      const { connectionId } = await connectedAccount("polar", account);
      const honest = queued(account);
      const dedupKey = honest.delivery?.dedupKey ?? "";
      const shard = ledgerShard("polar", dedupKey);
      const crafted = queued(account, `${newId("whe")}_${suffix(shard)}`, dedupKey);

      const first = await processed([honest]);
      const second = await processed([crafted]);
      expect(first).toEqual({ outcomes: ["processed"], syncs: [expect.objectContaining({ connectionId })] });
      expect(second.syncs).toEqual([]);
      expect(second.outcomes).toEqual(["skipped"]);
      expect(await eventsAbout("polar", account)).toHaveLength(1);
    });
  }
});

describe("a queued delivery whose id is another event's", () => {
  it("is refused alone: its batch-mates are processed, and the other event keeps its payload", async () => {
    const ada = `polar-${crypto.randomUUID()}`;
    const bob = `polar-${crypto.randomUUID()}`;
    const { connectionId: adaConnection } = await connectedAccount("polar", ada);
    const { connectionId: bobConnection } = await connectedAccount("polar", bob);
    const original = queued(ada);
    expect((await processed([original])).outcomes).toEqual(["processed"]);
    const [stored] = await eventsAbout("polar", ada);
    const payloadBefore = await (await env.LAKE.get(stored?.r2Key ?? ""))?.text();

    // A different event (its own dedup key, hashing to the same shard) under the first one's id.
    const shard = ledgerShardOfEvent(original.webhookEventId);
    let key = "";
    do key = `polar:${crypto.randomUUID()}`;
    while (ledgerShard("polar", key) !== shard);
    const impostor = { ...queued(ada, original.webhookEventId, key) };
    if (impostor.delivery) impostor.delivery.payload = btoa('{"forged":true}');
    const neighbour = queued(bob);

    const run = await processed([impostor, neighbour]);
    expect(run.outcomes).toEqual(["skipped", "processed"]);
    expect(run.syncs).toEqual([expect.objectContaining({ connectionId: bobConnection })]);
    expect(await (await env.LAKE.get(stored?.r2Key ?? ""))?.text()).toBe(payloadBefore);
    expect((await eventsAbout("polar", ada)).map((row) => [row.id, row.dedupKey, row.connectionId])).toEqual([
      [original.webhookEventId, original.delivery?.dedupKey, adaConnection],
    ]);
  });
});

describe("the WEBHOOKS queue refusing a delivery", () => {
  it("answers the provider 503 with Retry-After, not 500, and its retry is stored once", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { connectionId } = await connectedAccount("polar", account);
    const body = JSON.stringify({
      event: "SLEEP",
      user_id: account,
      timestamp: new Date().toISOString(),
      entity_id: crypto.randomUUID(),
      date: "2026-11-20",
    });
    const send = async (queue: Queue) =>
      call(app, "/webhooks/polar", { method: "POST", body, headers: await polarHeaders(body) }, { WEBHOOKS: queue });

    const refused = await send(recordingQueue({ failing: true }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Content-Type")).toContain("application/problem+json");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(JSON.stringify(await refused.json())).not.toContain("queue unavailable");

    const queue = recordingQueue();
    expect((await send(queue)).status).toBe(200);
    const run = await processed(queue.sent as ProviderWebhookMessage[]);
    expect(run.syncs).toEqual([expect.objectContaining({ connectionId })]);
    expect(await eventsAbout("polar", account)).toHaveLength(1);
  });

  it("refuses a delivery too large for a message as unavailable too, and its retry completes it", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const delivery: VerifiedDelivery = {
      kind: "delivery",
      provider: "polar",
      dedupKey: `polar:${crypto.randomUUID()}`,
      eventType: "SLEEP",
      authenticity: "signed",
      hints: [{ providerUserId: account, dataType: "sleep", operation: "upsert", date: "2026-11-20" }],
    };
    const payload = { body: new Uint8Array(200_000), contentType: "application/json" };
    const failing = recordingQueue({ failing: true });
    const refused = recordDelivery({ db, env: { ...env, WEBHOOKS: failing } }, delivery, payload, new Date());
    await expect(refused).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE", retryAfterSeconds: expect.any(Number) });

    const queue = recordingQueue();
    const retried = await recordDelivery({ db, env: { ...env, WEBHOOKS: queue } }, delivery, payload, new Date());
    expect(retried.duplicate).toBe(true);
    expect(queue.sent).toEqual([expect.objectContaining({ webhookEventId: retried.eventId })]);
  });
});

describe("a shard's sweep while the WEBHOOKS queue is down", () => {
  it("keeps a stuck event through any number of refused sends, and re-sends it once the queue is back", async () => {
    const account = `polar-nobody-${crypto.randomUUID()}`;
    const lost = queued(account);
    const t0 = Date.now() - 10 * 60_000;
    if (lost.delivery) lost.delivery.receivedAt = new Date(t0).toISOString();
    // Written by the dead-letter path (no message) ten minutes ago: the sweep must send it.
    await storeQueuedDeliveries(env, [lost], new Date(t0), { enqueuedAt: null });
    const shard = env.WEBHOOK_LEDGER.getByName(`shard:${ledgerShardOfEvent(lost.webhookEventId)}`);

    // The alarm comes back every 30 s after a failure: ten of them are five minutes of outage.
    for (let attempt = 0; attempt < 10; attempt++) {
      const now = Date.now() + attempt * 30_000;
      await runInDurableObject(shard, async (instance: WebhookLedger) => {
        const ledger = instance as unknown as { env: Env };
        const real = ledger.env;
        ledger.env = { ...real, WEBHOOKS: recordingQueue({ failing: true }) };
        try {
          await expect(instance.sweep(now)).rejects.toThrow();
        } finally {
          ledger.env = real;
        }
      });
    }
    expect(await eventById(lost.webhookEventId)).toMatchObject({ status: "received" });

    const back = recordingQueue();
    const swept = await runInDurableObject(shard, async (instance: WebhookLedger) => {
      const ledger = instance as unknown as { env: Env };
      const real = ledger.env;
      ledger.env = { ...real, WEBHOOKS: back };
      try {
        return await instance.sweep(Date.now() + 6 * 60_000);
      } finally {
        ledger.env = real;
      }
    });
    expect(swept.dropped).not.toContain(lost.webhookEventId);
    expect(back.sent).toContainEqual(expect.objectContaining({ webhookEventId: lost.webhookEventId }));
    expect(await eventById(lost.webhookEventId)).toMatchObject({ status: "received", sweeps: 1 });
  });
});

describe("a shard asleep until its oldest row expires", () => {
  it("wakes within five minutes of a new event, so a stuck one is not left for weeks", async () => {
    const account = `polar-nobody-${crypto.randomUUID()}`;
    const first = queued(account);
    const shardNumber = ledgerShardOfEvent(first.webhookEventId);
    let key = "";
    do key = `polar:${crypto.randomUUID()}`;
    while (ledgerShard("polar", key) !== shardNumber);
    const second = queued(account, undefined, key);
    const shard = env.WEBHOOK_LEDGER.getByName(`shard:${shardNumber}`);
    const alarm = () => runInDurableObject(shard, (_instance, state) => state.storage.getAlarm());

    // Processed (dropped: nobody is connected), then the shard's alarm finds nothing unsettled.
    expect((await processed([first])).outcomes).toEqual(["dropped"]);
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    expect(await alarm()).toBeGreaterThan(Date.now() + 29 * 24 * 60 * 60_000);

    // A delivery whose job died before storing it: the dead-letter path writes it without a message.
    await storeQueuedDeliveries(env, [second], new Date(), { enqueuedAt: null });
    expect(await alarm()).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
  });
});

describe("a message naming another provider's event", () => {
  it("is acknowledged without processing that event or changing it", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    await connectedAccount("polar", account);
    const polar = queued(account);
    await storeQueuedDeliveries(env, [polar], new Date());
    const forged: ProviderWebhookMessage = { type: "provider.webhook", provider: "oura", webhookEventId: polar.webhookEventId };

    expect(await processed([forged])).toEqual({ outcomes: ["skipped"], syncs: [] });
    expect(await eventById(polar.webhookEventId)).toMatchObject({ provider: "polar", status: "received", sweeps: 0 });
  });
});
