import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { connections, securityEvents } from "../../src/db/schema";
import { getProvidersConfig, webhookSecretsFor } from "../../src/providers/config";
import type { ProviderWebhookMessage } from "../../src/providers/messages";
import { verifyWebhook } from "../../src/providers/webhooks";
import { acceptDelivery, deleteWebhookEvents, recordDelivery } from "../../src/providers/webhooks/events";
import { keepDeadLetteredWebhook, processWebhookEvent } from "../../src/providers/webhooks/process-event";
import type { VerifiedDelivery, WebhookProvider } from "../../src/providers/webhooks/types";
import { handleQueueBatch, QUEUES } from "../../src/queues/consumer";
import {
  connectedAccount,
  db,
  eventById,
  eventsOfDelivery,
  ledgerOf,
  ouraHeaders,
  polarHeaders,
  recordingQueue,
  terraHeaders,
  vectors,
} from "./helpers/webhooks";

/**
 * What happens to a stored delivery: the `provider.webhook` job (resolve the account, one
 * `provider.sync` over the hinted days, revoke on a signed deauthorization, drop what concerns
 * nobody), the sweep that re-sends events left without a message, deletion for one person, and
 * 30-day retention. Deliveries are verified from real signed or published bodies.
 */
const secrets = webhookSecretsFor(getProvidersConfig(env));
const DAY = 24 * 60 * 60 * 1000;

async function verified(provider: WebhookProvider, body: string, headers: Record<string, string>, now = new Date()) {
  const outcome = await verifyWebhook(
    provider,
    {
      method: "POST",
      url: `https://pulse.example/webhooks/${provider}`,
      headers: new Headers(headers),
      body: new TextEncoder().encode(body),
    },
    secrets,
    now,
  );
  if (outcome.kind !== "delivery") throw new Error(`expected a delivery, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Stores `delivery` as the route does (real D1 and R2; a recording WEBHOOKS queue). */
async function stored(delivery: VerifiedDelivery, body: string, now = new Date()) {
  const ingest = recordingQueue();
  const { eventId } = await recordDelivery(
    { db, env: { ...env, WEBHOOKS: ingest } },
    delivery,
    { body: new TextEncoder().encode(body), contentType: "application/json" },
    now,
  );
  return eventId;
}

/** Queues `delivery` as the route does (a recording WEBHOOKS queue): the message the job receives. */
async function queued(delivery: VerifiedDelivery, body: string, now = new Date()) {
  const ingest = recordingQueue();
  await acceptDelivery(
    { db, env: { ...env, WEBHOOKS: ingest } },
    delivery,
    { body: new TextEncoder().encode(body), contentType: "application/json" },
    now,
  );
  expect(ingest.sent).toHaveLength(1);
  return ingest.sent[0] as ProviderWebhookMessage;
}

async function runMessage(message: ProviderWebhookMessage, now = new Date()) {
  const sync = recordingQueue();
  const outcome = await processWebhookEvent({ db, env: { ...env, SYNC: sync } }, message, now);
  return { outcome, sent: sync.sent };
}

const run = (eventId: string, provider: WebhookProvider, now = new Date()) =>
  runMessage({ type: "provider.webhook", provider, webhookEventId: eventId }, now);

async function polarEvent(userId: string, extra: Record<string, string>) {
  const body = JSON.stringify({
    event: "SLEEP",
    user_id: userId,
    timestamp: new Date().toISOString(),
    entity_id: crypto.randomUUID(),
    ...extra,
  });
  return { body, delivery: await verified("polar", body, await polarHeaders(body)) };
}

describe("the provider.webhook job", () => {
  it("queues one provider.sync for the connected account over the hinted days, widened, and marks the event processed", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { userId, connectionId } = await connectedAccount("polar", account);
    const { body, delivery } = await polarEvent(account, { date: "2026-11-20" });
    const eventId = await stored(delivery, body);
    const now = new Date("2026-12-01T12:00:00Z");
    const { outcome, sent } = await run(eventId, "polar", now);
    expect(outcome).toBe("processed");
    // 2026-11-20 as a local day anywhere (UTC−12…+14), plus a day either side.
    expect(sent).toEqual([
      {
        type: "provider.sync",
        connectionId,
        userId,
        provider: "polar",
        since: "2026-11-18T00:00:00.000Z",
        until: "2026-11-23T00:00:00.000Z",
        reason: "webhook",
      },
    ]);
    expect(await eventById(eventId)).toMatchObject({ status: "processed", userId, connectionId, processedAt: now });
  });

  it("uses the last two days when the hint names no time, and never asks beyond now", async () => {
    const account = `oura-${crypto.randomUUID()}`;
    await connectedAccount("oura", account);
    const body = JSON.stringify({
      event_type: "update",
      data_type: "sleep",
      object_id: "s-1",
      event_time: "2026-12-01T08:00:00+00:00",
      user_id: account,
    });
    const now = new Date();
    const eventId = await stored(await verified("oura", body, await ouraHeaders(body, Math.floor(now.getTime() / 1000))), body);
    const { sent } = await run(eventId, "oura", now);
    expect(sent).toMatchObject([{ since: new Date(now.getTime() - 2 * DAY).toISOString(), until: now.toISOString() }]);

    const withings = `${Math.floor(Math.random() * 1e9)}`;
    await connectedAccount("withings", withings);
    const start = Math.floor(now.getTime() / 1000) - 3600;
    const form = `userid=${withings}&appli=44&startdate=${start}&enddate=${start + 1800}`;
    const latest = await run(await stored(await verified("withings", form, {}), form), "withings", now);
    expect(latest.sent).toMatchObject([{ until: now.toISOString() }]);
  });

  it("drops an event about no live connection: nothing queued, the row kept, the payload not", async () => {
    const { body, delivery } = await polarEvent(`polar-nobody-${crypto.randomUUID()}`, { date: "2026-11-20" });
    const eventId = await stored(delivery, body);
    const { outcome, sent } = await run(eventId, "polar");
    expect(outcome).toBe("dropped");
    expect(sent).toEqual([]);
    const row = await eventById(eventId);
    expect(row).toMatchObject({ status: "dropped", userId: null });
    expect(await env.LAKE.head(row?.r2Key ?? "")).toBeNull();

    // Queued inline: the same, and a retry of its message does not bring the payload back.
    const other = await polarEvent(`polar-nobody-${crypto.randomUUID()}`, { date: "2026-11-20" });
    const message = await queued(other.delivery, other.body);
    expect((await runMessage(message)).outcome).toBe("dropped");
    expect((await runMessage(message)).outcome).toBe("skipped");
    const inline = await eventById(message.webhookEventId);
    expect(inline).toMatchObject({ status: "dropped" });
    expect(await env.LAKE.head(inline?.r2Key ?? "")).toBeNull();
  });

  it("stores a queued delivery once: a re-delivery's message is acked unprocessed, its own retry finishes it", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { connectionId } = await connectedAccount("polar", account);
    const { body, delivery } = await polarEvent(account, { date: "2026-11-20" });
    const first = await queued(delivery, body);
    const replay = await queued(delivery, body, new Date(Date.now() + 5_000));
    expect(first.webhookEventId).not.toBe(replay.webhookEventId);

    const results = [await runMessage(first), await runMessage(replay), await runMessage(first)];
    expect(results.map((result) => result.outcome)).toEqual(["processed", "skipped", "skipped"]);
    expect(results.flatMap((result) => result.sent)).toEqual([
      expect.objectContaining({ type: "provider.sync", connectionId, reason: "webhook" }),
    ]);
    const rows = await eventsOfDelivery(delivery);
    expect(rows.map((row) => row.id)).toEqual([first.webhookEventId]);
    expect(await (await env.LAKE.get(rows[0]?.r2Key ?? ""))?.text()).toBe(body);
  });

  it("processes an event once: a redelivered message changes nothing", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    await connectedAccount("polar", account);
    const { body, delivery } = await polarEvent(account, { date: "2026-11-20" });
    const eventId = await stored(delivery, body);
    expect((await run(eventId, "polar")).sent).toHaveLength(1);
    const again = await run(eventId, "polar");
    expect(again).toEqual({ outcome: "skipped", sent: [] });
  });

  it("revokes the connection on a signed deauthorization, with its security event", async () => {
    const account = `terra-${crypto.randomUUID()}`;
    const { userId, connectionId } = await connectedAccount("terra", account);
    const body = JSON.stringify({
      type: "deauth",
      status: "success",
      user: { user_id: account, provider: "OURA" },
      message: "User has deauthenticated",
    });
    const eventId = await stored(await verified("terra", body, await terraHeaders(body, Math.floor(Date.now() / 1000))), body);
    const { outcome, sent } = await run(eventId, "terra");
    expect(outcome).toBe("processed");
    expect(sent).toEqual([]);
    const [row] = await db.select().from(connections).where(eq(connections.id, connectionId));
    expect(row).toMatchObject({ status: "revoked", accessTokenCiphertext: null, refreshTokenCiphertext: null });
    const events = await db
      .select()
      .from(securityEvents)
      .where(and(eq(securityEvents.subject, userId), eq(securityEvents.action, "connection.revoke")));
    expect(events).toHaveLength(1);
  });

  it("does not let an unsigned deauthorization revoke: it asks for a sync, which the provider answers", async () => {
    const account = String(100_000 + Math.floor(Math.random() * 1e8));
    const { connectionId } = await connectedAccount("strava", account);
    const body = JSON.stringify({ ...vectors.strava.deauth, object_id: Number(account), owner_id: Number(account) });
    const eventId = await stored(await verified("strava", body, {}), body);
    const { outcome, sent } = await run(eventId, "strava");
    expect(outcome).toBe("processed");
    expect(sent).toMatchObject([{ type: "provider.sync", connectionId, reason: "webhook" }]);
    const [row] = await db.select().from(connections).where(eq(connections.id, connectionId));
    expect(row?.status).toBe("active");
  });
});

/** A batch of `bodies` through the real consumer on the webhooks queue, as Cloudflare Queues delivers one. */
async function consumeBatch(bodies: readonly unknown[], sync: Queue) {
  const batch = createMessageBatch<unknown>(
    QUEUES.webhooks,
    bodies.map((body, index) => ({ id: `whq-${index}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await handleQueueBatch(batch, { ...env, SYNC: sync }, ctx);
  const result = await getQueueResult(batch, ctx);
  const ids = batch.messages.map((message) => message.id);
  return {
    acked: ids.map((id) => result.explicitAcks.includes(id)),
    retried: ids.map((id) => result.retryMessages.some((retry) => retry.msgId === id)),
  };
}

describe("a batch of deliveries on the webhooks queue", () => {
  it("processes every delivery of the batch together, each once: a replay inside the batch is acked unprocessed", async () => {
    const [ada, bea] = [`polar-${crypto.randomUUID()}`, `polar-${crypto.randomUUID()}`];
    const adaConnection = await connectedAccount("polar", ada);
    const beaConnection = await connectedAccount("polar", bea);
    const terraAccount = `terra-${crypto.randomUUID()}`;
    const terraConnection = await connectedAccount("terra", terraAccount);
    const adaEvent = await polarEvent(ada, { date: "2026-11-20" });
    const nobody = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-11-20" });
    const beaEvent = await polarEvent(bea, { date: "2026-11-19" });
    const deauth = JSON.stringify({ type: "deauth", status: "success", user: { user_id: terraAccount, provider: "OURA" } });
    const terraDelivery = await verified("terra", deauth, await terraHeaders(deauth, Math.floor(Date.now() / 1000)));

    const first = await queued(adaEvent.delivery, adaEvent.body);
    const replay = await queued(adaEvent.delivery, adaEvent.body, new Date(Date.now() + 1_000));
    const dropped = await queued(nobody.delivery, nobody.body);
    // Stored first (a body too large to travel inline, or the sweep): the message names its row.
    const byReference = {
      type: "provider.webhook" as const,
      provider: "polar" as const,
      webhookEventId: await stored(beaEvent.delivery, beaEvent.body),
    };
    const revoking = await queued(terraDelivery, deauth);

    const sync = recordingQueue();
    const result = await consumeBatch([first, replay, dropped, byReference, revoking], sync);
    expect(result.acked).toEqual([true, true, true, true, true]);
    expect(sync.sent).toHaveLength(2);
    expect(sync.sent).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "provider.sync", connectionId: adaConnection.connectionId, reason: "webhook" }),
        expect.objectContaining({ type: "provider.sync", connectionId: beaConnection.connectionId, reason: "webhook" }),
      ]),
    );
    const adaRows = await eventsOfDelivery(adaEvent.delivery);
    expect(adaRows).toMatchObject([{ id: first.webhookEventId, status: "processed", connectionId: adaConnection.connectionId }]);
    expect(await (await env.LAKE.get(adaRows[0]?.r2Key ?? ""))?.text()).toBe(adaEvent.body);
    const droppedRow = await eventById(dropped.webhookEventId);
    expect(droppedRow).toMatchObject({ status: "dropped", connectionId: null });
    expect(await env.LAKE.head(droppedRow?.r2Key ?? "")).toBeNull();
    expect(await eventById(byReference.webhookEventId)).toMatchObject({ status: "processed", userId: beaConnection.userId });
    expect(await eventById(revoking.webhookEventId)).toMatchObject({ status: "processed" });
    const [revoked] = await db.select().from(connections).where(eq(connections.id, terraConnection.connectionId));
    expect(revoked?.status).toBe("revoked");
  });

  it("never acks what was not done when the batch fails: each delivery is retried alone, and the retry finishes it", async () => {
    const account = `polar-${crypto.randomUUID()}`;
    const { connectionId } = await connectedAccount("polar", account);
    const connected = await polarEvent(account, { date: "2026-11-20" });
    const nobody = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-11-20" });
    const needsSync = await queued(connected.delivery, connected.body);
    const dropped = await queued(nobody.delivery, nobody.body);

    // SYNC refuses: the batch step fails, and alone only the delivery needing no sync goes through.
    const down = await consumeBatch([needsSync, dropped], recordingQueue({ failing: true }));
    expect(down).toEqual({ acked: [false, true], retried: [true, false] });
    const waiting = await eventById(needsSync.webhookEventId);
    expect(waiting).toMatchObject({ status: "received" });
    expect(await env.LAKE.head(waiting?.r2Key ?? "")).toBeNull();
    expect(await eventById(dropped.webhookEventId)).toMatchObject({ status: "dropped" });

    const sync = recordingQueue();
    const retried = await consumeBatch([needsSync], sync);
    expect(retried.acked).toEqual([true]);
    expect(sync.sent).toMatchObject([{ type: "provider.sync", connectionId }]);
    const done = await eventById(needsSync.webhookEventId);
    expect(done).toMatchObject({ status: "processed", connectionId });
    expect(await (await env.LAKE.get(done?.r2Key ?? ""))?.text()).toBe(connected.body);
  });

  it("keeps a delivery dead-lettered from the webhooks queue, in R2 and as a row the sweep re-sends", async () => {
    const { body, delivery } = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-11-21" });
    const message = await queued(delivery, body);
    const at = new Date();
    const batch = createMessageBatch<unknown>(QUEUES.webhooksDlq, [
      { id: `dead-${crypto.randomUUID()}`, timestamp: at, attempts: 1, body: message },
    ]);
    const ctx = createExecutionContext();
    await handleQueueBatch(batch, env, ctx);
    const [dead] = batch.messages;
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([dead?.id]);
    const kept = await env.LAKE.get(`dead-letters/${QUEUES.webhooksDlq}/${at.toISOString().slice(0, 10)}/${dead?.id}.json`);
    expect(await kept?.json()).toMatchObject({ queue: QUEUES.webhooksDlq, reason: "retries exhausted" });
    expect(await eventById(message.webhookEventId)).toMatchObject({ status: "received", enqueuedAt: null });
  });
});

describe("delivery storage when a step fails", () => {
  it("answers an error and writes nothing when the queue refuses a delivery; the retry is queued", async () => {
    const { body, delivery } = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-11-21" });
    const payload = { body: new TextEncoder().encode(body), contentType: "application/json" };
    await expect(
      acceptDelivery({ db, env: { ...env, WEBHOOKS: recordingQueue({ failing: true }) } }, delivery, payload, new Date()),
    ).rejects.toThrow();
    expect(await eventsOfDelivery(delivery)).toEqual([]);
    expect(await queued(delivery, body)).toMatchObject({ delivery: { dedupKey: delivery.dedupKey } });
  });

  it("keeps a queued delivery whose job died before storing it; its shard's sweep queues it again", async () => {
    const { body, delivery } = await polarEvent(`polar-nobody-${crypto.randomUUID()}`, { date: "2026-11-21" });
    const t0 = new Date(Date.now() - 10 * 60_000);
    const message = await queued(delivery, body, t0);
    // What the dead-letter queue's consumer runs once Queues gave up on the message.
    await keepDeadLetteredWebhook(env, message);
    const row = await eventById(message.webhookEventId);
    expect(row).toMatchObject({ status: "received", enqueuedAt: null, receivedAt: t0 });
    expect(await (await env.LAKE.get(row?.r2Key ?? ""))?.text()).toBe(body);

    const swept = await ledgerOf(message.webhookEventId).sweep(Date.now());
    expect(swept.resent).toContain(message.webhookEventId);
    // The real WEBHOOKS queue and its consumer: the job reads the row, finds nobody connected, and
    // drops the event with the payload the dead-letter handler kept.
    await vi.waitFor(
      async () => {
        expect(await eventById(message.webhookEventId)).toMatchObject({ status: "dropped", sweeps: 1 });
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(await env.LAKE.head(row?.r2Key ?? "")).toBeNull();
  });

  it("keeps the row when the queue refuses; the provider's retry completes it, once", async () => {
    const { body, delivery } = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-11-21" });
    const payload = { body: new TextEncoder().encode(body), contentType: "application/json" };
    const t0 = new Date();
    await expect(
      recordDelivery({ db, env: { ...env, WEBHOOKS: recordingQueue({ failing: true }) } }, delivery, payload, t0),
    ).rejects.toThrow();
    const [row] = await eventsOfDelivery(delivery);
    expect(row).toMatchObject({ status: "received", enqueuedAt: null });

    const retry = recordingQueue();
    const later = new Date(t0.getTime() + 60_000);
    expect(await recordDelivery({ db, env: { ...env, WEBHOOKS: retry } }, delivery, payload, later)).toEqual({
      eventId: row?.id,
      duplicate: true,
    });
    expect(retry.sent).toEqual([{ type: "provider.webhook", provider: "polar", webhookEventId: row?.id }]);
    const third = recordingQueue();
    await recordDelivery({ db, env: { ...env, WEBHOOKS: third } }, delivery, payload, new Date(later.getTime() + 60_000));
    expect(third.sent).toEqual([]);
  });

  it("re-sends a row stuck in received without a message from its shard's sweep, once", async () => {
    const { body, delivery } = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-11-22" });
    const payload = { body: new TextEncoder().encode(body), contentType: "application/json" };
    const t0 = new Date(Date.now() - 10 * 60_000);
    await expect(
      recordDelivery({ db, env: { ...env, WEBHOOKS: recordingQueue({ failing: true }) } }, delivery, payload, t0),
    ).rejects.toThrow();
    const [row] = await eventsOfDelivery(delivery);
    const shard = ledgerOf(row?.id ?? "");

    const now = new Date();
    const swept = await shard.sweep(now.getTime());
    expect(swept.resent).toContain(row?.id);
    expect(await eventById(row?.id ?? "")).toMatchObject({ enqueuedAt: now, sweeps: 1 });

    const again = await shard.sweep(now.getTime() + 5 * 60_000);
    expect(again.resent).not.toContain(row?.id);
  });
});

describe("deletion and retention", () => {
  it("deleteWebhookEvents removes the rows and payloads of one person at one provider, and nothing else", async () => {
    const alice = `polar-${crypto.randomUUID()}`;
    const bob = `polar-${crypto.randomUUID()}`;
    const a = await connectedAccount("polar", alice);
    await connectedAccount("polar", bob);
    const aliceProcessed = await polarEvent(alice, { date: "2026-11-20" });
    const aliceUnresolved = await polarEvent(alice, { date: "2026-11-21" });
    const bobEvent = await polarEvent(bob, { date: "2026-11-20" });
    const ids = {
      aliceProcessed: await stored(aliceProcessed.delivery, aliceProcessed.body),
      aliceUnresolved: await stored(aliceUnresolved.delivery, aliceUnresolved.body),
      bob: await stored(bobEvent.delivery, bobEvent.body),
    };
    await run(ids.aliceProcessed, "polar");
    const keys = Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, (await eventById(id))?.r2Key ?? ""] as const)),
    );

    expect(await deleteWebhookEvents(env, { userId: a.userId, provider: "polar" })).toEqual({ deleted: 2 });
    expect(await eventById(ids.aliceProcessed)).toBeUndefined();
    expect(await eventById(ids.aliceUnresolved)).toBeUndefined();
    expect(await env.LAKE.head(keys.aliceProcessed ?? "")).toBeNull();
    expect(await env.LAKE.head(keys.aliceUnresolved ?? "")).toBeNull();
    expect(await eventById(ids.bob)).toBeDefined();
    expect(await env.LAKE.head(keys.bob ?? "")).not.toBeNull();
    // Another provider's events of the same person are not touched by this call.
    expect(await deleteWebhookEvents(env, { userId: a.userId, provider: "oura" })).toEqual({ deleted: 0 });
  });

  it("deleteWebhookEvents also removes a multi-account batch naming one of the person's accounts", async () => {
    const carol = `polar-${crypto.randomUUID()}`;
    const c = await connectedAccount("polar", carol);
    const other = `polar-${crypto.randomUUID()}`;
    const single = await polarEvent(carol, { date: "2026-11-20" });
    // A batch about two accounts (as Google Health batches notifications), as verification reads it.
    const hintFor = (providerUserId: string) => ({
      providerUserId,
      dataType: "SLEEP",
      operation: "upsert" as const,
      date: "2026-11-20",
    });
    const batch: VerifiedDelivery = {
      ...single.delivery,
      dedupKey: `polar:batch-${crypto.randomUUID()}`,
      hints: [hintFor(other), hintFor(carol)],
    };
    const unrelated: VerifiedDelivery = { ...batch, dedupKey: `polar:batch-${crypto.randomUUID()}`, hints: [hintFor(other)] };
    const batchId = await stored(batch, single.body);
    const unrelatedId = await stored(unrelated, single.body);
    expect((await eventById(batchId))?.providerUserId).toBeNull();
    expect(await deleteWebhookEvents(env, { userId: c.userId, provider: "polar" })).toEqual({ deleted: 1 });
    expect(await eventById(batchId)).toBeUndefined();
    expect(await eventById(unrelatedId)).toBeDefined();
  });

  it("purges rows and payloads older than 30 days from each shard's alarm, and keeps younger ones", async () => {
    const now = new Date();
    const old = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-10-01" });
    const young = await polarEvent(`polar-${crypto.randomUUID()}`, { date: "2026-11-01" });
    const oldId = await stored(old.delivery, old.body, new Date(now.getTime() - 31 * DAY));
    const youngId = await stored(young.delivery, young.body, new Date(now.getTime() - 29 * DAY));
    const oldKey = (await eventById(oldId))?.r2Key ?? "";
    const youngKey = (await eventById(youngId))?.r2Key ?? "";
    // Each shard set its alarm when it stored the event; running them is what time would do.
    expect(await runDurableObjectAlarm(ledgerOf(oldId))).toBe(true);
    await runDurableObjectAlarm(ledgerOf(youngId));
    expect(await eventById(oldId)).toBeUndefined();
    expect(await env.LAKE.head(oldKey)).toBeNull();
    expect(await eventById(youngId)).toBeDefined();
    expect(await env.LAKE.head(youngKey)).not.toBeNull();
  });
});
