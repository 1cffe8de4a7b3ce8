// Verification of the sandbox provider's webhooks (src/providers/webhooks/sandbox.ts): the scheme
// tools/sandbox-provider/webhook.ts signs with, checked here against an independent HMAC.
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/errors/domain-error";
import type { RawWebhookRequest, WebhookOutcome } from "../../src/providers/webhooks/index";
import { MAX_BODY_BYTES, refusalError, verifyWebhook } from "../../src/providers/webhooks/index";

const SECRET = "sandbox-webhook-signing-secret";
const secrets = { sandbox: { signingSecret: SECRET } };
const NOW = new Date("2026-12-07T10:00:00Z");
const encoder = new TextEncoder();

async function sign(secret: string, t: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${t}.${body}`)));
  return [...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function event(eventId: string): string {
  return JSON.stringify({
    event_id: eventId,
    user_id: "sbx_0123456789abcdef0123",
    data_type: "heart_rate",
    start: "2026-12-07T08:00:00.000Z",
    end: "2026-12-07T09:00:00.000Z",
  });
}

async function delivery(
  body: string,
  options: { at?: Date; secret?: string; header?: (t: number, v1: string) => string; method?: string } = {},
): Promise<RawWebhookRequest> {
  const t = Math.floor((options.at ?? NOW).getTime() / 1000);
  const v1 = await sign(options.secret ?? SECRET, t, body);
  return {
    method: options.method ?? "POST",
    url: "https://pulse.example/webhooks/sandbox",
    headers: new Headers({
      "content-type": "application/json",
      "sandbox-signature": options.header ? options.header(t, v1) : `t=${t},v1=${v1}`,
    }),
    body: encoder.encode(body),
  };
}

function refusedFor(outcome: WebhookOutcome): string {
  if (outcome.kind !== "refused") throw new Error(`expected a refusal, got ${outcome.kind}`);
  return outcome.reason;
}

describe("sandbox webhooks", () => {
  it("accepts a signed delivery and reads whose data changed and when", async () => {
    const outcome = await verifyWebhook("sandbox", await delivery(event("5b0f6a0e-1")), secrets, NOW);
    expect(outcome).toEqual({
      kind: "delivery",
      provider: "sandbox",
      authenticity: "signed",
      eventType: "data.available",
      dedupKey: expect.stringMatching(/^sandbox:[A-Za-z0-9_-]{43}$/),
      signedAt: NOW.toISOString(),
      hints: [
        {
          providerUserId: "sbx_0123456789abcdef0123",
          dataType: "heart_rate",
          operation: "upsert",
          start: "2026-12-07T08:00:00.000Z",
          end: "2026-12-07T09:00:00.000Z",
        },
      ],
    });
  });

  it("gives a re-delivery of one event the same dedup key, another event another key", async () => {
    const first = await verifyWebhook("sandbox", await delivery(event("evt-a")), secrets, NOW);
    // A retry is signed again later; the event id, not the signature, identifies it.
    const later = new Date(NOW.getTime() + 60_000);
    const retry = await verifyWebhook("sandbox", await delivery(event("evt-a"), { at: later }), secrets, later);
    const other = await verifyWebhook("sandbox", await delivery(event("evt-b")), secrets, NOW);
    if (first.kind !== "delivery" || retry.kind !== "delivery" || other.kind !== "delivery") throw new Error("not deliveries");
    expect(retry.dedupKey).toBe(first.dedupKey);
    expect(other.dedupKey).not.toBe(first.dedupKey);
  });

  it("refuses an altered body, a foreign secret and a missing or incomplete signature", async () => {
    const signed = await delivery(event("evt-c"));
    const altered = { ...signed, body: encoder.encode(event("evt-c").replace("heart_rate", "glucose")) };
    expect(refusedFor(await verifyWebhook("sandbox", altered, secrets, NOW))).toBe("unauthenticated");
    const foreign = await delivery(event("evt-c"), { secret: "someone-else" });
    expect(refusedFor(await verifyWebhook("sandbox", foreign, secrets, NOW))).toBe("unauthenticated");
    const unsigned = { ...signed, headers: new Headers({ "content-type": "application/json" }) };
    expect(refusedFor(await verifyWebhook("sandbox", unsigned, secrets, NOW))).toBe("unauthenticated");
    const noTime = await delivery(event("evt-c"), { header: (_t, v1) => `v1=${v1}` });
    expect(refusedFor(await verifyWebhook("sandbox", noTime, secrets, NOW))).toBe("unauthenticated");
    // The timestamp is signed: moving it breaks the signature.
    const moved = await delivery(event("evt-c"), { header: (t, v1) => `t=${t + 1},v1=${v1}` });
    expect(refusedFor(await verifyWebhook("sandbox", moved, secrets, NOW))).toBe("unauthenticated");
  });

  it("accepts any matching v1 among several (a secret being rotated)", async () => {
    const rotating = await delivery(event("evt-d"), { header: (t, v1) => `t=${t},v1=${"0".repeat(64)},v1=${v1}` });
    expect((await verifyWebhook("sandbox", rotating, secrets, NOW)).kind).toBe("delivery");
  });

  it("refuses a signed timestamp more than 5 minutes old or ahead, as unauthenticated", async () => {
    const old = await delivery(event("evt-e"), { at: new Date(NOW.getTime() - 301_000) });
    const stale = await verifyWebhook("sandbox", old, secrets, NOW);
    expect(refusedFor(stale)).toBe("stale");
    if (stale.kind === "refused") expect(refusalError(stale)).toMatchObject({ code: "UNAUTHENTICATED" });
    const ahead = await delivery(event("evt-e"), { at: new Date(NOW.getTime() + 301_000) });
    expect(refusedFor(await verifyWebhook("sandbox", ahead, secrets, NOW))).toBe("stale");
    const edge = await delivery(event("evt-e"), { at: new Date(NOW.getTime() - 299_000) });
    expect((await verifyWebhook("sandbox", edge, secrets, NOW)).kind).toBe("delivery");
  });

  it("refuses a signed body that is not the documented event, a GET, and an oversized body", async () => {
    const shapeless = await delivery(JSON.stringify({ event_id: "evt-f", user_id: "sbx_1" }));
    expect(refusedFor(await verifyWebhook("sandbox", shapeless, secrets, NOW))).toBe("malformed");
    const get = await delivery(event("evt-f"), { method: "GET" });
    expect(refusedFor(await verifyWebhook("sandbox", get, secrets, NOW))).toBe("method_not_allowed");
    const huge = await delivery("x".repeat(MAX_BODY_BYTES.sandbox + 1));
    expect(refusedFor(await verifyWebhook("sandbox", huge, secrets, NOW))).toBe("too_large");
  });

  it("is NOT_FOUND where the sandbox has no signing secret configured", async () => {
    const error = await verifyWebhook("sandbox", await delivery(event("evt-g")), {}, NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: "NOT_FOUND" });
  });
});
