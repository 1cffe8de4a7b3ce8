import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { ProviderWebhookMessage } from "../../src/providers/messages";
import { MAX_BODY_BYTES } from "../../src/providers/webhooks";
import { INLINE_MESSAGE_MAX_BYTES } from "../../src/providers/webhooks/events";
import { processWebhookEvent } from "../../src/providers/webhooks/process-event";
import { call } from "./helpers/test-app";
import {
  connectedAccount,
  db,
  eventById,
  eventsAbout,
  GOOGLE_AUTHORIZATION,
  OURA_VERIFICATION_TOKEN,
  ouraHeaders,
  polarHeaders,
  recordingQueue,
  SIGNED_AT,
  STRAVA_VERIFY_TOKEN,
  terraHeaders,
  vectors,
  whoopHeaders,
} from "./helpers/webhooks";

/**
 * `POST|GET|HEAD /webhooks/:provider` through the real application: every published vector is
 * answered after one WEBHOOKS message carrying it (the job then stores a row and the exact payload,
 * once per event), forgeries and stale deliveries queue and store nothing, handshakes are answered
 * exactly, and oversized bodies are refused without being read whole. The WEBHOOKS binding is a
 * recording queue, so each message sent can be counted and handed to the job; the last test goes
 * through the Worker's own fetch and the real local queue and consumer.
 */
const app = createApp();
/** The Oura account the published vector is about. */
const OURA_VECTOR_ACCOUNT = String(JSON.parse(vectors.oura.rawBody).user_id);

afterEach(() => {
  vi.useRealTimers();
});

/** Freezes the Worker's clock (Date only) at `ms`, as when the vector was sent. */
function at(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"], now: ms });
}

async function post(
  provider: string,
  body: string | ReadableStream<Uint8Array>,
  headers: Record<string, string>,
  ingest = recordingQueue(),
) {
  const res = await call(app, `/webhooks/${provider}`, { method: "POST", body, headers }, { WEBHOOKS: ingest });
  return { res, ingest };
}

/** The `provider.webhook` job as the consumer runs it, with a recording SYNC queue. */
async function runJob(message: unknown) {
  const sync = recordingQueue();
  const outcome = await processWebhookEvent({ db, env: { ...env, SYNC: sync } }, message as ProviderWebhookMessage, new Date());
  return { outcome, syncs: sync.sent };
}

async function payloadCount(provider: string): Promise<number> {
  return (await env.LAKE.list({ prefix: `webhooks/${provider}/` })).objects.length;
}

interface Delivery {
  provider: "oura" | "whoop" | "terra" | "strava" | "withings";
  at: number;
  body: string;
  headers: Record<string, string>;
  contentType: string;
}

const DELIVERIES: Delivery[] = [
  {
    provider: "oura",
    at: SIGNED_AT.oura,
    body: vectors.oura.rawBody,
    headers: vectors.oura.headers,
    contentType: "application/json",
  },
  {
    provider: "whoop",
    at: SIGNED_AT.whoop,
    body: vectors.whoop.rawBody,
    headers: vectors.whoop.headers,
    contentType: "application/json",
  },
  {
    provider: "terra",
    at: SIGNED_AT.terra,
    body: vectors.terra.rawBody,
    headers: vectors.terra.headers,
    contentType: "application/json",
  },
  { provider: "strava", at: Date.now(), body: vectors.strava.rawBody, headers: {}, contentType: "application/json" },
  {
    provider: "withings",
    at: Date.now(),
    body: vectors.withings.rawBody,
    headers: {},
    contentType: vectors.withings.contentType,
  },
];

describe("deliveries", () => {
  it("answers every published vector after one WEBHOOKS message carrying it; the job stores the row and exact payload", async () => {
    // Strava and Withings sign nothing: their events are kept only about connected accounts. Every
    // vector's account is connected before its job runs, so each event is processed, payload kept.
    await connectedAccount("strava", "134815");
    await connectedAccount("withings", "12345");
    for (const delivery of DELIVERIES) {
      at(delivery.at + 30_000);
      const { res, ingest } = await post(delivery.provider, delivery.body, {
        ...delivery.headers,
        "Content-Type": delivery.contentType,
      });
      expect(res.status, delivery.provider).toBe(200);
      expect(await res.json()).toEqual({ received: true });
      expect(ingest.sent).toHaveLength(1);
      const message = ingest.sent[0] as ProviderWebhookMessage;
      expect(message).toMatchObject({
        type: "provider.webhook",
        provider: delivery.provider,
        webhookEventId: expect.stringMatching(/^whe_/),
        delivery: {
          authenticity: delivery.provider === "strava" || delivery.provider === "withings" ? "unsigned-hint" : "signed",
          receivedAt: new Date(delivery.at + 30_000).toISOString(),
          contentType: delivery.contentType,
        },
      });
      expect(atob(message.delivery?.payload ?? "")).toBe(delivery.body);
      // Nothing written before the answer but the message.
      expect(await eventById(message.webhookEventId)).toBeUndefined();

      const providerUserId = message.delivery?.hints[0]?.providerUserId ?? "";
      if (delivery.provider !== "strava" && delivery.provider !== "withings") {
        await connectedAccount(delivery.provider, providerUserId);
      }
      expect((await runJob(message)).outcome).toBe("processed");
      const row = await eventById(message.webhookEventId);
      expect(row).toMatchObject({ provider: delivery.provider, status: "processed", providerUserId });
      const day = new Date(delivery.at + 30_000).toISOString().slice(0, 10);
      expect(row?.r2Key).toBe(`webhooks/${delivery.provider}/${day}/${message.webhookEventId}.json`);
      expect(row?.receivedAt.getTime()).toBe(delivery.at + 30_000);
      const object = await env.LAKE.get(row?.r2Key ?? "");
      expect(object?.httpMetadata?.contentType).toBe(delivery.contentType);
      expect(await object?.text()).toBe(delivery.body);
    }
  });

  it("queues the hints verification read, never more than ids, types and times", async () => {
    at(SIGNED_AT.oura);
    const body = JSON.stringify({
      event_type: "create",
      data_type: "workout",
      object_id: `w-${crypto.randomUUID()}`,
      event_time: "2026-07-04T08:00:00+00:00",
      user_id: "oura-hints-user",
    });
    const { res, ingest } = await post("oura", body, await ouraHeaders(body, SIGNED_AT.oura / 1000));
    expect(res.status).toBe(200);
    const message = ingest.sent[0] as ProviderWebhookMessage;
    expect(message.delivery).toMatchObject({ eventType: "workout.create" });
    expect(message.delivery?.hints).toEqual([
      { providerUserId: "oura-hints-user", dataType: "workout", operation: "upsert", objectId: JSON.parse(body).object_id },
    ]);
  });

  it("acknowledges a replayed delivery and processes it once: one row, one sync", async () => {
    const body = JSON.stringify({
      user_id: 4242,
      id: crypto.randomUUID(),
      type: "recovery.updated",
      trace_id: crypto.randomUUID(),
    });
    const { connectionId } = await connectedAccount("whoop", "4242");
    const sentAt = Date.now();
    const first = await post("whoop", body, await whoopHeaders(body, sentAt));
    // WHOOP re-signs a retry with a new timestamp; it is still the same event.
    const again = await post("whoop", body, await whoopHeaders(body, sentAt + 1000));
    expect([first.res.status, again.res.status]).toEqual([200, 200]);
    expect(await again.res.json()).toEqual({ received: true });
    const [firstMessage, againMessage] = [first.ingest.sent[0], again.ingest.sent[0]] as ProviderWebhookMessage[];
    expect(firstMessage?.delivery?.dedupKey).toBe(againMessage?.delivery?.dedupKey);

    const firstRun = await runJob(firstMessage);
    const againRun = await runJob(againMessage);
    // The retry of the first message (Queues delivers at least once) changes nothing either.
    const redelivered = await runJob(firstMessage);
    expect([firstRun.outcome, againRun.outcome, redelivered.outcome]).toEqual(["processed", "skipped", "skipped"]);
    expect(firstRun.syncs).toEqual([expect.objectContaining({ type: "provider.sync", connectionId, reason: "webhook" })]);
    expect([...againRun.syncs, ...redelivered.syncs]).toEqual([]);
    const rows = await eventsAbout("whoop", "4242");
    expect(rows.map((row) => row.id)).toEqual([firstMessage?.webhookEventId]);
    expect(await eventById(againMessage?.webhookEventId ?? "")).toBeUndefined();
  });

  it("ignores an unsigned event about no connected account: acknowledged, nothing stored", async () => {
    const before = await payloadCount("strava");
    const rowsBefore = (await eventsAbout("strava", "999000111")).length;
    const body = JSON.stringify({ ...JSON.parse(vectors.strava.rawBody), owner_id: 999_000_111 });
    const { res, ingest } = await post("strava", body, { "Content-Type": "application/json" });
    expect(res.status).toBe(200);
    expect(ingest.sent).toEqual([]);
    expect(await payloadCount("strava")).toBe(before);
    expect((await eventsAbout("strava", "999000111")).length).toBe(rowsBefore);
  });
});

describe("refusals", () => {
  it("refuses an altered body or signature with 401 and stores nothing", async () => {
    at(SIGNED_AT.oura + 30_000);
    const before = { rows: (await eventsAbout("oura", OURA_VECTOR_ACCOUNT)).length, payloads: await payloadCount("oura") };
    const signature = vectors.oura.headers["x-oura-signature"];
    const cases = [
      { body: vectors.oura.rawBody.replace("sleep", "sleeq"), headers: vectors.oura.headers },
      {
        body: vectors.oura.rawBody,
        headers: {
          ...vectors.oura.headers,
          "x-oura-signature": `${signature.slice(0, 5)}${signature[5] === "A" ? "B" : "A"}${signature.slice(6)}`,
        },
      },
      { body: vectors.oura.rawBody, headers: { "x-oura-timestamp": vectors.oura.headers["x-oura-timestamp"] } },
    ];
    for (const { body, headers } of cases) {
      const { res, ingest } = await post("oura", body, { ...headers, "Content-Type": "application/json" });
      expect(res.status).toBe(401);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      expect(await res.json()).toMatchObject({ code: "UNAUTHENTICATED", reason: "unauthenticated", provider: "oura" });
      expect(ingest.sent).toEqual([]);
    }
    expect({ rows: (await eventsAbout("oura", OURA_VECTOR_ACCOUNT)).length, payloads: await payloadCount("oura") }).toEqual(
      before,
    );
  });

  it("refuses a stale signed timestamp with 401", async () => {
    at(SIGNED_AT.oura + 6 * 60_000);
    const { res, ingest } = await post("oura", vectors.oura.rawBody, {
      ...vectors.oura.headers,
      "Content-Type": "application/json",
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "UNAUTHENTICATED", reason: "stale" });
    expect(ingest.sent).toEqual([]);
  });

  it("answers 404 for an unknown provider, one without webhooks and one not configured here", async () => {
    for (const provider of ["fitbit", "dexcom", "garmin", "..%2Fv1"]) {
      const { res } = await post(provider, "{}", { "Content-Type": "application/json" });
      expect(res.status, provider).toBe(404);
      expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
    }
    const withoutOura = JSON.stringify({ whoop: { clientId: "c", clientSecret: "s" } });
    const res = await call(
      app,
      "/webhooks/oura",
      { method: "POST", body: vectors.oura.rawBody, headers: { ...vectors.oura.headers, "Content-Type": "application/json" } },
      { PROVIDER_CREDENTIALS: withoutOura, WEBHOOKS: recordingQueue() },
    );
    expect(res.status).toBe(404);
  });

  it("refuses a body over the provider's limit with 413, without reading it whole", async () => {
    const chunk = new Uint8Array(16 * 1024).fill(0x20);
    const chunks = 64; // 1 MiB against Oura's 64 KiB
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled >= chunks) return controller.close();
          pulled++;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    const { res, ingest } = await post("oura", stream, { ...vectors.oura.headers, "Content-Type": "application/json" });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(pulled).toBeLessThanOrEqual(MAX_BODY_BYTES.oura / chunk.byteLength + 2);
    expect(ingest.sent).toEqual([]);

    // A declared length over the limit is refused before anything is read.
    let touched = false;
    const declared = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          touched = true;
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const big = await post("oura", declared, {
      ...vectors.oura.headers,
      "Content-Type": "application/json",
      "Content-Length": String(MAX_BODY_BYTES.oura + 1),
    });
    expect(big.res.status).toBe(413);
    expect(touched).toBe(false);
  });

  it("takes Terra's large payloads past the generic JSON limit: stored before the answer, queued by reference", async () => {
    const data = Array.from({ length: 15_000 }, (_, i) => ({
      metadata: { start_time: "2026-12-01T00:00:00Z", end_time: "2026-12-01T01:00:00Z" },
      i,
    }));
    const body = JSON.stringify({ type: "activity", user: { user_id: `terra-${crypto.randomUUID()}` }, data });
    expect(body.length).toBeGreaterThan(Number(env.MAX_JSON_BODY_BYTES));
    expect(body.length).toBeGreaterThan(INLINE_MESSAGE_MAX_BYTES);
    const { res, ingest } = await post("terra", body, await terraHeaders(body, Math.floor(Date.now() / 1000)));
    expect(res.status).toBe(200);
    // Too large for a queue message: the row and payload are written first, the message names them.
    expect(ingest.sent).toEqual([
      { type: "provider.webhook", provider: "terra", webhookEventId: expect.stringMatching(/^whe_/) },
    ]);
    const row = await eventById((ingest.sent[0] as ProviderWebhookMessage).webhookEventId);
    expect(row).toMatchObject({ status: "received" });
    expect(await (await env.LAKE.get(row?.r2Key ?? ""))?.text()).toBe(body);
  });
});

describe("handshakes", () => {
  const get = (path: string, method = "GET") => call(app, path, { method }, { WEBHOOKS: recordingQueue() });

  it("echoes Oura's challenge for the registered verification token, refuses another", async () => {
    const ok = await get(`/webhooks/oura?verification_token=${OURA_VERIFICATION_TOKEN}&challenge=r4nd0m-Ch4llenge`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("Content-Type")).toBe("application/json");
    expect(await ok.text()).toBe('{"challenge":"r4nd0m-Ch4llenge"}');
    expect((await get("/webhooks/oura?verification_token=guess&challenge=abc")).status).toBe(401);
  });

  it("answers Strava's hub.challenge exactly as the vector shows, and refuses another verify token", async () => {
    const query = vectors.strava.handshake.request.replace(/^GET \{callback\}/, "");
    const ok = await get(`/webhooks/strava${query}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual(vectors.strava.handshake.response);
    expect(query).toContain(`hub.verify_token=${STRAVA_VERIFY_TOKEN}`);
    const wrong = await get(
      `/webhooks/strava${query.replace(`hub.verify_token=${STRAVA_VERIFY_TOKEN}`, "hub.verify_token=NOPE")}`,
    );
    expect(wrong.status).toBe(401);
  });

  it("answers a GET the provider never sends with 405 naming the methods it does use", async () => {
    for (const [path, allow] of [
      ["/webhooks/withings", "HEAD, POST"],
      ["/webhooks/sandbox", "POST"],
      ["/webhooks/whoop", "POST"],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(405);
      expect(res.headers.get("Allow"), path).toBe(allow);
    }
  });

  it("answers Withings' HEAD with an empty 200", async () => {
    const res = await get("/webhooks/withings", "HEAD");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("answers Polar's ping with 200 and stores nothing", async () => {
    const body = JSON.stringify({ event: "PING", timestamp: "2026-12-01T10:00:00Z" });
    const before = await payloadCount("polar");
    const { res, ingest } = await post("polar", body, await polarHeaders(body));
    expect(res.status).toBe(200);
    expect(ingest.sent).toEqual([]);
    expect(await payloadCount("polar")).toBe(before);
  });

  it("answers Google's subscriber verification with 201 when it carries the secret, 401 when not", async () => {
    const body = JSON.stringify({ type: "verification" });
    const ok = await post("google-health", body, { "Content-Type": "application/json", Authorization: GOOGLE_AUTHORIZATION });
    expect(ok.res.status).toBe(201);
    const without = await post("google-health", body, { "Content-Type": "application/json" });
    expect(without.res.status).toBe(401);
  });
});

describe("end to end through the Worker and the local queue", () => {
  it("processes a delivery about nobody connected: the row ends dropped", async () => {
    const body = JSON.stringify({
      user_id: 777_001,
      id: crypto.randomUUID(),
      type: "sleep.updated",
      trace_id: crypto.randomUUID(),
    });
    const res = await exports.default.fetch("http://localhost/webhooks/whoop", {
      method: "POST",
      body,
      headers: await whoopHeaders(body, Date.now()),
    });
    expect(res.status).toBe(200);
    const find = async () => (await eventsAbout("whoop", "777001"))[0];
    await vi.waitFor(
      async () => {
        expect((await find())?.status).toBe("dropped");
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
