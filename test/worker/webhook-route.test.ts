import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { MAX_BODY_BYTES } from "../../src/providers/webhooks";
import { call } from "./helpers/test-app";
import {
  connectedAccount,
  eventById,
  eventsOf,
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
 * stored once (row, R2 payload, INGEST message), forgeries and stale deliveries store nothing,
 * handshakes are answered exactly, and oversized bodies are refused without being read whole.
 * The INGEST binding is a recording queue, so each message sent can be counted; the last test goes
 * through the Worker's own fetch and the real local queue and consumer.
 */
const app = createApp();

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
  const res = await call(app, `/webhooks/${provider}`, { method: "POST", body, headers }, { INGEST: ingest });
  return { res, ingest };
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
  it("stores every published vector once: a row, the exact payload in R2, one INGEST message", async () => {
    // Strava and Withings sign nothing: their events are kept only about connected accounts.
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
      const message = ingest.sent[0] as { type: string; provider: string; webhookEventId: string };
      expect(message).toEqual({
        type: "provider.webhook",
        provider: delivery.provider,
        webhookEventId: expect.stringMatching(/^whe_/),
      });

      const row = await eventById(message.webhookEventId);
      expect(row).toMatchObject({ provider: delivery.provider, status: "received", userId: null, processedAt: null });
      expect(row?.authenticity).toBe(
        delivery.provider === "strava" || delivery.provider === "withings" ? "unsigned-hint" : "signed",
      );
      const day = new Date(delivery.at + 30_000).toISOString().slice(0, 10);
      expect(row?.r2Key).toBe(`webhooks/${delivery.provider}/${day}/${message.webhookEventId}.json`);
      expect(row?.enqueuedAt?.getTime()).toBe(delivery.at + 30_000);
      const object = await env.LAKE.get(row?.r2Key ?? "");
      expect(object?.httpMetadata?.contentType).toBe(delivery.contentType);
      expect(await object?.text()).toBe(delivery.body);
    }
  });

  it("stores the hints verification read, never more than ids, types and times", async () => {
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
    const row = await eventById((ingest.sent[0] as { webhookEventId: string }).webhookEventId);
    expect(row).toMatchObject({ eventType: "workout.create", providerUserId: "oura-hints-user" });
    expect(row?.hints).toEqual([
      { providerUserId: "oura-hints-user", dataType: "workout", operation: "upsert", objectId: JSON.parse(body).object_id },
    ]);
  });

  it("acknowledges a replayed delivery without storing or queueing it again", async () => {
    const body = JSON.stringify({
      user_id: 4242,
      id: crypto.randomUUID(),
      type: "recovery.updated",
      trace_id: crypto.randomUUID(),
    });
    const sentAt = Date.now();
    const first = await post("whoop", body, await whoopHeaders(body, sentAt));
    // WHOOP re-signs a retry with a new timestamp; it is still the same event.
    const again = await post("whoop", body, await whoopHeaders(body, sentAt + 1000));
    expect([first.res.status, again.res.status]).toEqual([200, 200]);
    expect(await again.res.json()).toEqual({ received: true });
    expect(first.ingest.sent).toHaveLength(1);
    expect(again.ingest.sent).toHaveLength(0);
    const rows = (await eventsOf("whoop")).filter((row) => row.hints[0]?.providerUserId === "4242");
    expect(rows).toHaveLength(1);
  });

  it("ignores an unsigned event about no connected account: acknowledged, nothing stored", async () => {
    const before = await payloadCount("strava");
    const body = JSON.stringify({ ...JSON.parse(vectors.strava.rawBody), owner_id: 999_000_111 });
    const { res, ingest } = await post("strava", body, { "Content-Type": "application/json" });
    expect(res.status).toBe(200);
    expect(ingest.sent).toEqual([]);
    expect(await payloadCount("strava")).toBe(before);
  });
});

describe("refusals", () => {
  it("refuses an altered body or signature with 401 and stores nothing", async () => {
    at(SIGNED_AT.oura + 30_000);
    const before = { rows: (await eventsOf("oura")).length, payloads: await payloadCount("oura") };
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
    expect({ rows: (await eventsOf("oura")).length, payloads: await payloadCount("oura") }).toEqual(before);
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
    for (const provider of ["fitbit", "dexcom", "..%2Fv1"]) {
      const { res } = await post(provider, "{}", { "Content-Type": "application/json" });
      expect(res.status, provider).toBe(404);
      expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
    }
    const withoutOura = JSON.stringify({ whoop: { clientId: "c", clientSecret: "s" } });
    const res = await call(
      app,
      "/webhooks/oura",
      { method: "POST", body: vectors.oura.rawBody, headers: { ...vectors.oura.headers, "Content-Type": "application/json" } },
      { PROVIDER_CREDENTIALS: withoutOura, INGEST: recordingQueue() },
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

  it("takes Terra's large payloads past the generic JSON limit", async () => {
    const data = Array.from({ length: 15_000 }, (_, i) => ({
      metadata: { start_time: "2026-12-01T00:00:00Z", end_time: "2026-12-01T01:00:00Z" },
      i,
    }));
    const body = JSON.stringify({ type: "activity", user: { user_id: `terra-${crypto.randomUUID()}` }, data });
    expect(body.length).toBeGreaterThan(Number(env.MAX_JSON_BODY_BYTES));
    const { res, ingest } = await post("terra", body, await terraHeaders(body, Math.floor(Date.now() / 1000)));
    expect(res.status).toBe(200);
    expect(ingest.sent).toHaveLength(1);
  });
});

describe("handshakes", () => {
  const get = (path: string, method = "GET") => call(app, path, { method }, { INGEST: recordingQueue() });

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
    const find = async () => (await eventsOf("whoop")).find((row) => row.hints[0]?.providerUserId === "777001");
    await vi.waitFor(
      async () => {
        expect((await find())?.status).toBe("dropped");
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
