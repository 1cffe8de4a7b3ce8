import { z } from "zod";
import { checkFreshness, dedupKey, jsonHandshake, parseEpoch, parseJsonBody } from "./common.ts";
import { concatBytes, decodeHex, timingSafeEqualText, utf8, verifyHmac } from "./crypto.ts";
import type { RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * Oura API v2 webhooks (DESIGN §7; checked 2026-12 against the Hookdeck guide to Oura webhooks,
 * https://www.skills.sh/hookdeck/webhook-skills/oura-webhooks — Oura's own docs were not reachable here):
 * - creating a subscription sends `GET callback?verification_token=…&challenge=…`; answer 200 with
 *   `{"challenge": "<challenge>"}` when the token is the one we registered;
 * - each event is a POST with `x-oura-signature` = upper-case hex HMAC-SHA256(client secret,
 *   `x-oura-timestamp` + raw body). Oura publishes no tolerance: Pulse allows 5 minutes.
 * Payloads are notify-only (`event_type`, `data_type`, `object_id`, `event_time`, `user_id`).
 */
const OuraEvent = z.object({
  event_type: z.string().min(1),
  data_type: z.string().min(1),
  object_id: z.string().min(1).optional(),
  event_time: z.string().min(1).optional(),
  user_id: z.union([z.string().min(1), z.number()]),
});

const OPERATIONS: Record<string, "upsert" | "delete"> = { create: "upsert", update: "upsert", delete: "delete" };

export async function verifyOura(
  request: RawWebhookRequest,
  secrets: NonNullable<WebhookSecrets["oura"]>,
  now: Date,
): Promise<WebhookOutcome> {
  if (request.method === "GET") return handshake(request, secrets);
  if (request.method !== "POST") return refuse("oura", "method_not_allowed", "Oura webhooks are GET (verification) or POST.");

  const signatureHeader = request.headers.get("x-oura-signature");
  const timestamp = request.headers.get("x-oura-timestamp");
  if (!signatureHeader || !timestamp)
    return refuse("oura", "unauthenticated", "The x-oura-signature and x-oura-timestamp headers are required.");
  const signature = decodeHex(signatureHeader.trim());
  const signed =
    signature && (await verifyHmac("SHA-256", secrets.clientSecret, concatBytes(utf8(timestamp), request.body), signature));
  if (!signed) return refuse("oura", "unauthenticated", "The x-oura-signature does not match the body.");

  const signedAtMs = parseEpoch(timestamp.trim(), "s");
  if (signedAtMs === undefined) return refuse("oura", "malformed", "x-oura-timestamp is not a Unix time in seconds.");
  const stale = checkFreshness("oura", signedAtMs, now);
  if (stale) return stale;

  const parsed = parseJsonBody("oura", request.body, OuraEvent);
  if (!parsed.ok) return parsed.refusal;
  const event = parsed.value;
  return {
    kind: "delivery",
    provider: "oura",
    authenticity: "signed",
    eventType: `${event.data_type}.${event.event_type}`,
    dedupKey: await dedupKey("oura", [event.user_id, event.data_type, event.object_id, event.event_type, event.event_time]),
    signedAt: new Date(signedAtMs).toISOString(),
    hints: [
      {
        providerUserId: String(event.user_id),
        dataType: event.data_type,
        operation: OPERATIONS[event.event_type] ?? "other",
        ...(event.object_id === undefined ? {} : { objectId: event.object_id }),
      },
    ],
  };
}

async function handshake(request: RawWebhookRequest, secrets: NonNullable<WebhookSecrets["oura"]>): Promise<WebhookOutcome> {
  const query = new URL(request.url).searchParams;
  const token = query.get("verification_token");
  const challenge = query.get("challenge");
  if (token === null || !challenge) return refuse("oura", "malformed", "verification_token and challenge are required.");
  if (!(await timingSafeEqualText(token, secrets.verificationToken))) {
    return refuse("oura", "unauthenticated", "The verification_token is not the one registered.");
  }
  return { kind: "handshake", provider: "oura", response: jsonHandshake(200, { challenge }) };
}
