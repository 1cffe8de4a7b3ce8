import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DomainError } from "../../src/errors/domain-error.ts";
import type {
  RawWebhookRequest,
  VerifiedDelivery,
  WebhookOutcome,
  WebhookProvider,
  WebhookSecrets,
} from "../../src/providers/webhooks/index.ts";
import { MAX_BODY_BYTES, refusalError, verifyHmac, verifyWebhook } from "../../src/providers/webhooks/index.ts";

// The published vectors (../shared/data/providers/webhook-test-vectors.json), passed in as a binding.
const Vectors = z.object({
  terra: z.object({ secret: z.string(), rawBody: z.string(), headers: z.object({ "terra-signature": z.string() }) }),
  oura: z.object({
    secret: z.string(),
    rawBody: z.string(),
    headers: z.object({ "x-oura-timestamp": z.string(), "x-oura-signature": z.string() }),
  }),
  fitbit: z.object({ clientSecret: z.string(), rawBody: z.string(), headers: z.object({ "X-Fitbit-Signature": z.string() }) }),
  whoop: z.object({
    secret: z.string(),
    rawBody: z.string(),
    headers: z.object({ "X-WHOOP-Signature-Timestamp": z.string(), "X-WHOOP-Signature": z.string() }),
  }),
  strava: z.object({
    rawBody: z.string(),
    handshake: z.object({ request: z.string(), response: z.object({ "hub.challenge": z.string() }) }),
    deauth: z.record(z.string(), z.unknown()),
  }),
  withings: z.object({ contentType: z.string(), rawBody: z.string() }),
});
const vectors = Vectors.parse(env.TEST_PROVIDER_VECTORS);

const OURA_VERIFICATION_TOKEN = "oura-verification-token";
const STRAVA_VERIFY_TOKEN = "STRAVA";
const POLAR_SECRET = "polar_test_signature_secret_key";
const GOOGLE_AUTHORIZATION = "Bearer google-subscriber-secret";

const secrets: WebhookSecrets = {
  oura: { clientSecret: vectors.oura.secret, verificationToken: OURA_VERIFICATION_TOKEN },
  whoop: { clientSecret: vectors.whoop.secret },
  terra: { signingSecret: vectors.terra.secret },
  strava: { verifyToken: STRAVA_VERIFY_TOKEN },
  withings: {},
  polar: { signatureSecretKey: POLAR_SECRET },
  googleHealth: { authorization: GOOGLE_AUTHORIZATION },
};

const encoder = new TextEncoder();

function request(
  provider: WebhookProvider,
  init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string>; query?: string },
): RawWebhookRequest {
  const body = init.body ?? "";
  return {
    method: init.method ?? "POST",
    url: `https://pulse.example/webhooks/${provider}${init.query ?? ""}`,
    headers: new Headers(init.headers ?? {}),
    body: typeof body === "string" ? encoder.encode(body) : body,
  };
}

async function hmac(secret: string, message: string, hash: "SHA-256" | "SHA-1" = "SHA-256"): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

const hex = (bytes: Uint8Array) => [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

function expectDelivery(outcome: WebhookOutcome): VerifiedDelivery {
  if (outcome.kind !== "delivery") throw new Error(`expected a delivery, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function expectRefused(outcome: WebhookOutcome, reason: string) {
  expect(outcome).toMatchObject({ kind: "refused", reason });
}

/** Flips one character of a signature to another one of the same alphabet. */
function alter(signature: string, index = 5): string {
  const c = signature[index];
  const replacement =
    c === "A" ? "B" : c === "a" ? "b" : c === "0" ? "1" : /[0-9]/.test(c ?? "") ? "0" : /[a-z]/.test(c ?? "") ? "a" : "A";
  return signature.slice(0, index) + replacement + signature.slice(index + 1);
}

// Each signed vector with its signed time, and how to re-sign a body for the cases the vectors lack.
const ouraAt = Number(vectors.oura.headers["x-oura-timestamp"]) * 1000;
const whoopAt = Number(vectors.whoop.headers["X-WHOOP-Signature-Timestamp"]);
const terraAt = Number(/t=(\d+)/.exec(vectors.terra.headers["terra-signature"])?.[1]) * 1000;

async function ouraRequest(body: string, timestampSeconds: number, secret = vectors.oura.secret) {
  const signature = hex(await hmac(secret, `${timestampSeconds}${body}`)).toUpperCase();
  return request("oura", { body, headers: { "x-oura-timestamp": String(timestampSeconds), "x-oura-signature": signature } });
}

async function terraRequest(body: string, timestampSeconds: number) {
  const signature = hex(await hmac(vectors.terra.secret, `${timestampSeconds}.${body}`));
  return request("terra", { body, headers: { "terra-signature": `t=${timestampSeconds},v1=${signature}` } });
}

async function polarRequest(body: string, secret = POLAR_SECRET) {
  return request("polar", { body, headers: { "Polar-Webhook-Signature": hex(await hmac(secret, body)) } });
}

const signedVectors = [
  {
    provider: "oura" as const,
    at: ouraAt,
    headers: vectors.oura.headers,
    body: vectors.oura.rawBody,
    signatureHeader: "x-oura-signature",
  },
  {
    provider: "whoop" as const,
    at: whoopAt,
    headers: vectors.whoop.headers,
    body: vectors.whoop.rawBody,
    signatureHeader: "X-WHOOP-Signature",
  },
  {
    provider: "terra" as const,
    at: terraAt,
    headers: vectors.terra.headers,
    body: vectors.terra.rawBody,
    signatureHeader: "terra-signature",
  },
];

describe("signed provider vectors", () => {
  for (const vector of signedVectors) {
    describe(vector.provider, () => {
      const near = new Date(vector.at + 30_000);
      const withHeaders = (headers: Record<string, string>, body: string | Uint8Array = vector.body) =>
        request(vector.provider, { body, headers });

      it("verifies the published vector with its secret near its timestamp", async () => {
        const delivery = expectDelivery(await verifyWebhook(vector.provider, withHeaders(vector.headers), secrets, near));
        expect(delivery.authenticity).toBe("signed");
        expect(delivery.signedAt).toBe(new Date(vector.at).toISOString());
        expect(delivery.dedupKey).toMatch(new RegExp(`^${vector.provider}:[A-Za-z0-9_-]{43}$`));
      });

      it("refuses an altered body", async () => {
        const altered = vector.body.replace("sleep", "sleeq").replace("auth", "auti");
        expect(altered).not.toBe(vector.body);
        expectRefused(
          await verifyWebhook(vector.provider, withHeaders(vector.headers, altered), secrets, near),
          "unauthenticated",
        );
        expectRefused(
          await verifyWebhook(vector.provider, withHeaders(vector.headers, `${vector.body} `), secrets, near),
          "unauthenticated",
        );
      });

      it("refuses an altered signature", async () => {
        const original = Object.entries(vector.headers).find(([name]) => name === vector.signatureHeader)?.[1] ?? "";
        const index = vector.provider === "terra" ? original.length - 3 : 5;
        const altered = alter(original, index);
        expect(altered).not.toBe(original);
        const headers: Record<string, string> = { ...vector.headers, [vector.signatureHeader]: altered };
        expectRefused(await verifyWebhook(vector.provider, withHeaders(headers), secrets, near), "unauthenticated");
      });

      it("refuses the vector under a different secret", async () => {
        const wrong: WebhookSecrets = {
          oura: { clientSecret: "another-secret", verificationToken: OURA_VERIFICATION_TOKEN },
          whoop: { clientSecret: "another-secret" },
          terra: { signingSecret: "another-secret" },
        };
        expectRefused(await verifyWebhook(vector.provider, withHeaders(vector.headers), wrong, near), "unauthenticated");
      });

      it("refuses a delivery missing its signature headers", async () => {
        for (const name of Object.keys(vector.headers)) {
          const headers = Object.fromEntries(Object.entries(vector.headers).filter(([other]) => other !== name));
          expectRefused(await verifyWebhook(vector.provider, withHeaders(headers), secrets, near), "unauthenticated");
        }
      });

      it("accepts up to 5 minutes of skew and refuses stale and future timestamps beyond it", async () => {
        const at = (offsetMs: number) =>
          verifyWebhook(vector.provider, withHeaders(vector.headers), secrets, new Date(vector.at + offsetMs));
        expect((await at(299_000)).kind).toBe("delivery");
        expect((await at(-299_000)).kind).toBe("delivery");
        expectRefused(await at(301_000), "stale");
        expectRefused(await at(-301_000), "stale");
        expectRefused(await at(30 * 24 * 3600_000), "stale");
      });

      it("refuses other methods", async () => {
        const outcome = await verifyWebhook(vector.provider, { ...withHeaders(vector.headers), method: "PUT" }, secrets, near);
        expectRefused(outcome, "method_not_allowed");
      });

      it("refuses a body over the provider's limit before verifying anything", async () => {
        const body = new Uint8Array(MAX_BODY_BYTES[vector.provider] + 1);
        expectRefused(await verifyWebhook(vector.provider, withHeaders(vector.headers, body), secrets, near), "too_large");
      });
    });
  }

  it("reads each vector's change hint", async () => {
    const oura = expectDelivery(
      await verifyWebhook(
        "oura",
        request("oura", { body: vectors.oura.rawBody, headers: vectors.oura.headers }),
        secrets,
        new Date(ouraAt),
      ),
    );
    expect(oura.eventType).toBe("sleep.update");
    expect(oura.hints).toEqual([
      { providerUserId: "oura-user-123", dataType: "sleep", operation: "upsert", objectId: "12345abc" },
    ]);

    const whoop = expectDelivery(
      await verifyWebhook(
        "whoop",
        request("whoop", { body: vectors.whoop.rawBody, headers: vectors.whoop.headers }),
        secrets,
        new Date(whoopAt),
      ),
    );
    expect(whoop.eventType).toBe("sleep.updated");
    expect(whoop.hints).toEqual([
      { providerUserId: "10129", dataType: "sleep", operation: "upsert", objectId: "ecfc6a15-4661-442f-a9a4-f160dd7afae8" },
    ]);

    const terra = expectDelivery(
      await verifyWebhook(
        "terra",
        request("terra", { body: vectors.terra.rawBody, headers: vectors.terra.headers }),
        secrets,
        new Date(terraAt),
      ),
    );
    expect(terra.eventType).toBe("auth");
    expect(terra.hints).toEqual([
      { providerUserId: "4735eac4-31a2-47ef-8b11-51e98d84c680", dataType: "auth", operation: "other" },
    ]);
  });

  it("verifies the historical Fitbit vector with the generic HMAC helper (HMAC-SHA1, key = secret + '&')", async () => {
    const signature = Uint8Array.from(atob(vectors.fitbit.headers["X-Fitbit-Signature"]), (c) => c.charCodeAt(0));
    const body = encoder.encode(vectors.fitbit.rawBody);
    expect(await verifyHmac("SHA-1", `${vectors.fitbit.clientSecret}&`, body, signature)).toBe(true);
    expect(await verifyHmac("SHA-1", vectors.fitbit.clientSecret, body, signature)).toBe(false);
    expect(
      await verifyHmac("SHA-1", `${vectors.fitbit.clientSecret}&`, encoder.encode(`${vectors.fitbit.rawBody} `), signature),
    ).toBe(false);
    expect(await verifyHmac("SHA-1", `${vectors.fitbit.clientSecret}&`, body, signature.subarray(1))).toBe(false);
  });
});

describe("dedup keys", () => {
  const event = (objectId: string, eventTime = "2026-07-04T08:00:00+00:00") =>
    JSON.stringify({
      event_type: "update",
      data_type: "sleep",
      object_id: objectId,
      event_time: eventTime,
      user_id: "oura-user-123",
    });

  it("are equal for a re-delivery of the same event signed at another time", async () => {
    const first = expectDelivery(
      await verifyWebhook("oura", await ouraRequest(event("a1"), 1_800_000_000), secrets, new Date(1_800_000_000_000)),
    );
    const again = expectDelivery(
      await verifyWebhook("oura", await ouraRequest(event("a1"), 1_800_000_600), secrets, new Date(1_800_000_600_000)),
    );
    expect(again.dedupKey).toBe(first.dedupKey);

    const terra1 = expectDelivery(
      await verifyWebhook(
        "terra",
        await terraRequest(vectors.terra.rawBody, 1_800_000_000),
        secrets,
        new Date(1_800_000_000_000),
      ),
    );
    const terra2 = expectDelivery(
      await verifyWebhook(
        "terra",
        await terraRequest(vectors.terra.rawBody, 1_800_003_600),
        secrets,
        new Date(1_800_003_600_000),
      ),
    );
    expect(terra2.dedupKey).toBe(terra1.dedupKey);
  });

  it("differ for different events", async () => {
    const now = new Date(1_800_000_000_000);
    const keys = await Promise.all(
      [event("a1"), event("a2"), event("a1", "2026-07-04T09:00:00+00:00")].map(
        async (body) =>
          expectDelivery(await verifyWebhook("oura", await ouraRequest(body, 1_800_000_000), secrets, now)).dedupKey,
      ),
    );
    expect(new Set(keys).size).toBe(3);

    const strava = expectDelivery(
      await verifyWebhook("strava", request("strava", { body: vectors.strava.rawBody }), secrets, now),
    );
    const deauth = expectDelivery(
      await verifyWebhook("strava", request("strava", { body: JSON.stringify(vectors.strava.deauth) }), secrets, now),
    );
    expect(deauth.dedupKey).not.toBe(strava.dedupKey);
    // The same events from two providers never share a key.
    expect(strava.dedupKey.startsWith("strava:")).toBe(true);
  });

  it("ignore JSON formatting for Strava but not the event's content", async () => {
    const now = new Date();
    const compact = expectDelivery(
      await verifyWebhook("strava", request("strava", { body: vectors.strava.rawBody }), secrets, now),
    );
    const pretty = expectDelivery(
      await verifyWebhook(
        "strava",
        request("strava", { body: JSON.stringify(JSON.parse(vectors.strava.rawBody), null, 2) }),
        secrets,
        now,
      ),
    );
    expect(pretty.dedupKey).toBe(compact.dedupKey);
    const retitled = JSON.parse(vectors.strava.rawBody);
    retitled.updates.title = "Less messy";
    const other = expectDelivery(
      await verifyWebhook("strava", request("strava", { body: JSON.stringify(retitled) }), secrets, now),
    );
    expect(other.dedupKey).not.toBe(compact.dedupKey);
  });
});

describe("Terra and WHOOP hints", () => {
  it("reads a Terra data payload's user, type and overall time range, and a deauth as a deauthorization", async () => {
    const at = 1_800_000_000;
    const sleep = JSON.stringify({
      type: "sleep",
      user: { user_id: "terra-user-1", provider: "OURA" },
      data: [
        { metadata: { start_time: "2026-12-05T22:10:00.000000+01:00", end_time: "2026-12-06T06:00:00.000000+01:00" } },
        { metadata: { start_time: "2026-12-04T23:00:00+01:00", end_time: "2026-12-05T07:30:00+01:00" } },
      ],
    });
    const delivery = expectDelivery(await verifyWebhook("terra", await terraRequest(sleep, at), secrets, new Date(at * 1000)));
    expect(delivery.hints).toEqual([
      {
        providerUserId: "terra-user-1",
        dataType: "sleep",
        operation: "upsert",
        start: "2026-12-04T22:00:00.000Z",
        end: "2026-12-06T05:00:00.000Z",
      },
    ]);
    const deauth = JSON.stringify({ type: "deauth", user: { user_id: "terra-user-1" } });
    const revoked = expectDelivery(await verifyWebhook("terra", await terraRequest(deauth, at), secrets, new Date(at * 1000)));
    expect(revoked.hints).toEqual([{ providerUserId: "terra-user-1", dataType: "deauth", operation: "deauthorize" }]);
  });

  it("reads a WHOOP deletion", async () => {
    const at = 1_800_000_000_000;
    const body = JSON.stringify({
      user_id: 10129,
      id: "ecfc6a15-4661-442f-a9a4-f160dd7afae8",
      type: "workout.deleted",
      trace_id: "t-1",
    });
    const signature = base64(await hmac(vectors.whoop.secret, `${at}${body}`));
    const req = request("whoop", {
      body,
      headers: { "X-WHOOP-Signature-Timestamp": String(at), "X-WHOOP-Signature": signature },
    });
    const delivery = expectDelivery(await verifyWebhook("whoop", req, secrets, new Date(at)));
    expect(delivery.hints).toEqual([
      { providerUserId: "10129", dataType: "workout", operation: "delete", objectId: "ecfc6a15-4661-442f-a9a4-f160dd7afae8" },
    ]);
  });
});

describe("Oura", () => {
  const now = new Date(ouraAt);

  it("answers the verification GET by echoing the challenge", async () => {
    const outcome = await verifyWebhook(
      "oura",
      request("oura", { method: "GET", query: `?verification_token=${OURA_VERIFICATION_TOKEN}&challenge=r4nd0m-Ch4llenge` }),
      secrets,
      now,
    );
    expect(outcome).toEqual({
      kind: "handshake",
      provider: "oura",
      response: { status: 200, body: '{"challenge":"r4nd0m-Ch4llenge"}', contentType: "application/json" },
    });
  });

  it("refuses a verification with the wrong token, and one without a challenge", async () => {
    const wrong = request("oura", { method: "GET", query: "?verification_token=guess&challenge=abc" });
    expectRefused(await verifyWebhook("oura", wrong, secrets, now), "unauthenticated");
    const missing = request("oura", { method: "GET", query: `?verification_token=${OURA_VERIFICATION_TOKEN}` });
    expectRefused(await verifyWebhook("oura", missing, secrets, now), "malformed");
  });

  it("refuses a correctly signed body that is not an Oura event", async () => {
    for (const body of ["not json", "{}", '{"event_type":"update","data_type":"sleep"}', "\uFEFF{"]) {
      expectRefused(await verifyWebhook("oura", await ouraRequest(body, ouraAt / 1000), secrets, now), "malformed");
    }
  });

  it("refuses a signed timestamp that is not Unix seconds", async () => {
    const body = vectors.oura.rawBody;
    const signature = hex(await hmac(vectors.oura.secret, `2025-07-04T08:00:00Z${body}`));
    const outcome = await verifyWebhook(
      "oura",
      request("oura", { body, headers: { "x-oura-timestamp": "2025-07-04T08:00:00Z", "x-oura-signature": signature } }),
      secrets,
      now,
    );
    expectRefused(outcome, "malformed");
  });
});

describe("Strava", () => {
  const now = new Date();

  it("answers the subscription validation exactly as the vector shows", async () => {
    const url = vectors.strava.handshake.request
      .replace(/^GET /, "")
      .replace("{callback}", "https://pulse.example/webhooks/strava");
    const outcome = await verifyWebhook(
      "strava",
      { method: "GET", url, headers: new Headers(), body: new Uint8Array() },
      secrets,
      now,
    );
    expect(outcome.kind).toBe("handshake");
    if (outcome.kind !== "handshake") return;
    expect(outcome.response.status).toBe(200);
    expect(outcome.response.contentType).toBe("application/json");
    expect(JSON.parse(outcome.response.body ?? "")).toEqual(vectors.strava.handshake.response);
  });

  it("refuses a validation with another verify token", async () => {
    const outcome = await verifyWebhook(
      "strava",
      request("strava", { method: "GET", query: "?hub.mode=subscribe&hub.challenge=abc&hub.verify_token=NOPE" }),
      secrets,
      now,
    );
    expectRefused(outcome, "unauthenticated");
  });

  it("marks events as unsigned hints and reads activity and deauthorization events", async () => {
    const activity = expectDelivery(
      await verifyWebhook("strava", request("strava", { body: vectors.strava.rawBody }), secrets, now),
    );
    expect(activity.authenticity).toBe("unsigned-hint");
    expect(activity.eventType).toBe("activity.update");
    expect(activity.hints).toEqual([
      {
        providerUserId: "134815",
        dataType: "activity",
        operation: "upsert",
        objectId: "1360128428",
        start: "2018-01-16T18:07:20.000Z",
        end: "2018-01-16T18:07:20.000Z",
      },
    ]);
    const deauth = expectDelivery(
      await verifyWebhook("strava", request("strava", { body: JSON.stringify(vectors.strava.deauth) }), secrets, now),
    );
    expect(deauth.hints).toEqual([{ providerUserId: "134815", dataType: "athlete", operation: "deauthorize" }]);
  });

  it("refuses malformed events and events for another subscription", async () => {
    for (const body of ["", "{", '{"aspect_type":"update"}', JSON.stringify({ ...vectors.strava.deauth, object_type: "club" })]) {
      expectRefused(await verifyWebhook("strava", request("strava", { body }), secrets, now), "malformed");
    }
    const pinned: WebhookSecrets = { strava: { verifyToken: STRAVA_VERIFY_TOKEN, subscriptionId: 999 } };
    expectRefused(
      await verifyWebhook("strava", request("strava", { body: vectors.strava.rawBody }), pinned, now),
      "unauthenticated",
    );
  });
});

describe("Withings", () => {
  const now = new Date();
  const form = (body: string) => request("withings", { body, headers: { "content-type": vectors.withings.contentType } });

  it("answers the HEAD verification with an empty 200", async () => {
    const outcome = await verifyWebhook("withings", request("withings", { method: "HEAD" }), secrets, now);
    expect(outcome).toEqual({
      kind: "handshake",
      provider: "withings",
      response: { status: 200, body: null, contentType: null },
    });
  });

  it("reads the vector's form as an unsigned hint with its time range", async () => {
    const delivery = expectDelivery(await verifyWebhook("withings", form(vectors.withings.rawBody), secrets, now));
    expect(delivery.authenticity).toBe("unsigned-hint");
    expect(delivery.hints).toEqual([
      {
        providerUserId: "12345",
        dataType: "1",
        operation: "upsert",
        start: "2018-07-03T00:00:00.000Z",
        end: "2018-07-04T10:05:53.000Z",
      },
    ]);
    const again = expectDelivery(await verifyWebhook("withings", form(vectors.withings.rawBody), secrets, now));
    expect(again.dedupKey).toBe(delivery.dedupKey);
    const later = expectDelivery(
      await verifyWebhook("withings", form("userid=12345&appli=1&startdate=1530698754&enddate=1530700000"), secrets, now),
    );
    expect(later.dedupKey).not.toBe(delivery.dedupKey);
  });

  it("reads an unlink as a deauthorization", async () => {
    const delivery = expectDelivery(await verifyWebhook("withings", form("userid=12345&appli=46&action=unlink"), secrets, now));
    expect(delivery.hints[0]?.operation).toBe("deauthorize");
  });

  it("refuses forms without a numeric user and category, or with bad dates", async () => {
    for (const body of [
      "",
      "appli=1",
      "userid=abc&appli=1",
      "userid=1&appli=1&startdate=yesterday",
      "userid=1&appli=1&enddate=99999999999999999",
    ]) {
      expectRefused(await verifyWebhook("withings", form(body), secrets, now), "malformed");
    }
    expectRefused(await verifyWebhook("withings", request("withings", { method: "GET" }), secrets, now), "method_not_allowed");
  });
});

describe("Polar AccessLink", () => {
  const now = new Date();
  const exercise = JSON.stringify({
    event: "EXERCISE",
    user_id: 475,
    entity_id: "aQlC83",
    timestamp: "2018-05-15T14:22:24Z",
    url: "https://www.polaraccesslink.com/v3/exercises/aQlC83",
  });

  it("answers the creation PING with 200 before any secret exists", async () => {
    const ping = request("polar", { body: JSON.stringify({ event: "PING", timestamp: "2018-05-15T14:22:24Z" }) });
    expect(await verifyWebhook("polar", ping, secrets, now)).toEqual({
      kind: "handshake",
      provider: "polar",
      response: { status: 200, body: null, contentType: null },
    });
  });

  it("verifies Polar-Webhook-Signature over the raw body", async () => {
    const delivery = expectDelivery(await verifyWebhook("polar", await polarRequest(exercise), secrets, now));
    expect(delivery.authenticity).toBe("signed");
    expect(delivery.hints).toEqual([{ providerUserId: "475", dataType: "EXERCISE", operation: "upsert", objectId: "aQlC83" }]);

    const uppercase = await polarRequest(exercise);
    uppercase.headers.set("Polar-Webhook-Signature", (uppercase.headers.get("Polar-Webhook-Signature") ?? "").toUpperCase());
    expect((await verifyWebhook("polar", uppercase, secrets, now)).kind).toBe("delivery");

    const sleepWise = JSON.stringify({
      event: "SLEEP_WISE_ALERTNESS",
      user_id: 475,
      from: "2022-09-30",
      to: "2022-10-02",
      timestamp: "2022-10-02T14:22:24Z",
    });
    const range = expectDelivery(await verifyWebhook("polar", await polarRequest(sleepWise), secrets, now));
    expect(range.hints[0]).toMatchObject({ date: "2022-09-30", endDate: "2022-10-02" });
  });

  it("refuses a missing, altered or foreign signature", async () => {
    expectRefused(await verifyWebhook("polar", request("polar", { body: exercise }), secrets, now), "unauthenticated");
    const altered = await polarRequest(exercise);
    altered.headers.set("Polar-Webhook-Signature", alter(altered.headers.get("Polar-Webhook-Signature") ?? ""));
    expectRefused(await verifyWebhook("polar", altered, secrets, now), "unauthenticated");
    expectRefused(await verifyWebhook("polar", await polarRequest(exercise, "someone-else"), secrets, now), "unauthenticated");
    const tampered = await polarRequest(exercise);
    expectRefused(
      await verifyWebhook("polar", { ...tampered, body: encoder.encode(exercise.replace("475", "476")) }, secrets, now),
      "unauthenticated",
    );
  });

  it("keys re-notifications of the same day apart, and re-deliveries together", async () => {
    const summary = (timestamp: string) =>
      JSON.stringify({ event: "ACTIVITY_SUMMARY", user_id: 475, date: "2022-09-30", timestamp });
    const a = expectDelivery(await verifyWebhook("polar", await polarRequest(summary("2022-09-30T10:00:00Z")), secrets, now));
    const b = expectDelivery(await verifyWebhook("polar", await polarRequest(summary("2022-09-30T10:00:00Z")), secrets, now));
    const c = expectDelivery(await verifyWebhook("polar", await polarRequest(summary("2022-09-30T18:00:00Z")), secrets, now));
    expect(b.dedupKey).toBe(a.dedupKey);
    expect(c.dedupKey).not.toBe(a.dedupKey);
  });
});

describe("Google Health API", () => {
  const now = new Date();
  const notifications = JSON.stringify([
    {
      data: {
        version: "1",
        clientProvidedSubscriptionName: "pulse",
        healthUserId: "health-user-1",
        operation: "UPSERT",
        dataType: "steps",
        intervals: [{ physicalTimeInterval: { startTime: "2026-03-08T01:29:00Z", endTime: "2026-03-08T01:34:00Z" } }],
      },
    },
    { data: { healthUserId: "health-user-1", operation: "DELETE", dataType: "sleep", intervals: [] } },
  ]);

  const keyPair = crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]) as Promise<CryptoKeyPair>;

  async function signed(body: string, encoding: "raw" | "der" = "raw", header = "GOOGLE-HEALTH-API-SIGNATURE") {
    const { privateKey } = await keyPair;
    const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, encoder.encode(body)));
    const signature = encoding === "raw" ? raw : rawToDer(raw);
    return request("google-health", { body, headers: { authorization: GOOGLE_AUTHORIZATION, [header]: base64(signature) } });
  }

  async function keyedSecrets(): Promise<WebhookSecrets> {
    const jwk = (await crypto.subtle.exportKey("jwk", (await keyPair).publicKey)) as JsonWebKey;
    return { googleHealth: { authorization: GOOGLE_AUTHORIZATION, signingKeys: [jwk] } };
  }

  it("answers the verification with the secret by 201, and refuses the one without it", async () => {
    const body = '{"type": "verification"}';
    const withSecret = request("google-health", {
      body,
      headers: { authorization: GOOGLE_AUTHORIZATION, "content-type": "application/json" },
    });
    expect(await verifyWebhook("google-health", withSecret, secrets, now)).toEqual({
      kind: "handshake",
      provider: "google-health",
      response: { status: 201, body: null, contentType: null },
    });
    const without = request("google-health", { body, headers: { "content-type": "application/json" } });
    const refused = await verifyWebhook("google-health", without, secrets, now);
    expectRefused(refused, "unauthenticated");
    if (refused.kind === "refused") expect(refusalError(refused).code).toBe("UNAUTHENTICATED");
    const wrong = request("google-health", { body, headers: { authorization: "Bearer guess" } });
    expectRefused(await verifyWebhook("google-health", wrong, secrets, now), "unauthenticated");
  });

  it("verifies the ECDSA P-256 signature (raw or DER, either header name) against the configured keys", async () => {
    const keyed = await keyedSecrets();
    for (const req of [
      await signed(notifications),
      await signed(notifications, "der"),
      await signed(notifications, "raw", "X-HEALTHAPI-SIGNATURE"),
    ]) {
      const delivery = expectDelivery(await verifyWebhook("google-health", req, keyed, now));
      expect(delivery.authenticity).toBe("signed");
      expect(delivery.eventType).toBe("batch");
      expect(delivery.hints).toEqual([
        {
          providerUserId: "health-user-1",
          dataType: "steps",
          operation: "upsert",
          start: "2026-03-08T01:29:00.000Z",
          end: "2026-03-08T01:34:00.000Z",
        },
        { providerUserId: "health-user-1", dataType: "sleep", operation: "delete" },
      ]);
    }
  });

  it("refuses a missing, altered or foreign ECDSA signature when keys are configured", async () => {
    const keyed = await keyedSecrets();
    const unsigned = request("google-health", { body: notifications, headers: { authorization: GOOGLE_AUTHORIZATION } });
    expectRefused(await verifyWebhook("google-health", unsigned, keyed, now), "unauthenticated");
    const tampered = await signed(notifications);
    expectRefused(
      await verifyWebhook(
        "google-health",
        { ...tampered, body: encoder.encode(notifications.replace("steps", "floors")) },
        keyed,
        now,
      ),
      "unauthenticated",
    );
    const other = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const otherJwk = (await crypto.subtle.exportKey("jwk", other.publicKey)) as JsonWebKey;
    expectRefused(
      await verifyWebhook(
        "google-health",
        await signed(notifications),
        { googleHealth: { authorization: GOOGLE_AUTHORIZATION, signingKeys: [otherJwk] } },
        now,
      ),
      "unauthenticated",
    );
    const garbage = request("google-health", {
      body: notifications,
      headers: { authorization: GOOGLE_AUTHORIZATION, "GOOGLE-HEALTH-API-SIGNATURE": "!!" },
    });
    expectRefused(await verifyWebhook("google-health", garbage, keyed, now), "unauthenticated");
  });

  it("accepts on the registered secret alone when no signing key is configured, keyed by the body", async () => {
    const req = request("google-health", { body: notifications, headers: { authorization: GOOGLE_AUTHORIZATION } });
    const first = expectDelivery(await verifyWebhook("google-health", req, secrets, now));
    const again = expectDelivery(await verifyWebhook("google-health", req, secrets, now));
    expect(first.authenticity).toBe("shared-secret");
    expect(again.dedupKey).toBe(first.dedupKey);
  });

  it("refuses bodies that are not 1 to 99 notifications", async () => {
    const many = JSON.stringify(
      Array.from({ length: 100 }, () => ({ data: { healthUserId: "u", operation: "UPSERT", dataType: "steps" } })),
    );
    for (const body of ["[]", "{}", many, '[{"data":{"healthUserId":"u"}}]', "[{"]) {
      const req = request("google-health", { body, headers: { authorization: GOOGLE_AUTHORIZATION } });
      expectRefused(await verifyWebhook("google-health", req, secrets, now), "malformed");
    }
  });
});

describe("configuration and errors", () => {
  it("throws NOT_FOUND for a provider this deployment has no secrets for", async () => {
    const outcome = verifyWebhook("whoop", request("whoop", { body: "{}" }), {}, new Date());
    await expect(outcome).rejects.toBeInstanceOf(DomainError);
    await expect(outcome).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("maps each refusal to one domain error code", () => {
    const codes = (["unauthenticated", "stale", "malformed", "too_large", "method_not_allowed"] as const).map(
      (reason) => refusalError({ kind: "refused", provider: "oura", reason, detail: "d" }).code,
    );
    expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "BAD_REQUEST", "PAYLOAD_TOO_LARGE", "METHOD_NOT_ALLOWED"]);
    expect(refusalError({ kind: "refused", provider: "oura", reason: "stale", detail: "d" }).extensions).toEqual({
      reason: "stale",
      provider: "oura",
    });
  });
});

/** r‖s → ASN.1 DER, the encoding Java and Go signers emit. */
function rawToDer(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const padded = (trimmed[0] ?? 0) & 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed;
    return Uint8Array.of(0x02, padded.length, ...padded);
  };
  const r = integer(raw.subarray(0, 32));
  const s = integer(raw.subarray(32));
  return Uint8Array.of(0x30, r.length + s.length, ...r, ...s);
}
