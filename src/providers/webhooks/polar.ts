import { z } from "zod";
import { dedupKey, parseJsonBody } from "./common.ts";
import { decodeHex, verifyHmac } from "./crypto.ts";
import type { RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * Polar AccessLink webhooks (https://www.polar.com/accesslink-api/#webhooks and its AsyncAPI
 * restatement, checked 2026-12 — not Polar.sh, the unrelated payments company with Standard Webhooks):
 * - `Polar-Webhook-Signature` is the HMAC-SHA256 of the raw body under the webhook's
 *   `signature_secret_key`, which AccessLink shows once, in the response that creates the webhook.
 *   The docs do not name the encoding; the digest is read as hex (either case).
 * - Creating (or re-pointing) the webhook sends a `PING` that must be answered 200 or the webhook is
 *   not created. The ping arrives before that creation response, so before Pulse can know the
 *   secret: it is answered without verification. It carries no user and no data, so nothing is
 *   trusted by answering it.
 * - No timestamp is signed apart from the payload's own `timestamp` (time of sending); AccessLink
 *   publishes no tolerance and retries for up to seven days, so no freshness window is applied —
 *   replays are caught by `dedupKey`, and the consumer re-fetches from `url`'s resource anyway.
 */
const PolarEvent = z.object({
  event: z.string().regex(/^[A-Z_]+$/),
  user_id: z.union([z.number().int(), z.string().min(1)]),
  entity_id: z.string().min(1).optional(),
  date: z.iso.date().optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
  timestamp: z.string().min(1),
  url: z.string().optional(),
});

const Ping = z.object({ event: z.literal("PING") });

export async function verifyPolar(
  request: RawWebhookRequest,
  secrets: NonNullable<WebhookSecrets["polar"]>,
): Promise<WebhookOutcome> {
  if (request.method !== "POST") return refuse("polar", "method_not_allowed", "Polar AccessLink webhooks are POST.");
  const ping = parseJsonBody("polar", request.body, Ping);
  if (ping.ok) return { kind: "handshake", provider: "polar", response: { status: 200, body: null, contentType: null } };

  const signatureHeader = request.headers.get("polar-webhook-signature");
  if (!signatureHeader) return refuse("polar", "unauthenticated", "The Polar-Webhook-Signature header is required.");
  const signature = decodeHex(signatureHeader.trim());
  const signed = signature && (await verifyHmac("SHA-256", secrets.signatureSecretKey, request.body, signature));
  if (!signed) return refuse("polar", "unauthenticated", "The Polar-Webhook-Signature does not match the body.");

  const parsed = parseJsonBody("polar", request.body, PolarEvent);
  if (!parsed.ok) return parsed.refusal;
  const event = parsed.value;
  const firstDay = event.date ?? event.from;
  return {
    kind: "delivery",
    provider: "polar",
    authenticity: "signed",
    eventType: event.event,
    // `timestamp` is part of the key: AccessLink notifies the same day's ACTIVITY_SUMMARY again when
    // it changes, and collapsing those would lose the update.
    dedupKey: await dedupKey("polar", [
      event.event,
      event.user_id,
      event.entity_id,
      event.date,
      event.from,
      event.to,
      event.timestamp,
    ]),
    hints: [
      {
        providerUserId: String(event.user_id),
        dataType: event.event,
        operation: "upsert",
        ...(event.entity_id === undefined ? {} : { objectId: event.entity_id }),
        ...(firstDay === undefined ? {} : { date: firstDay }),
        ...(event.to === undefined ? {} : { endDate: event.to }),
      },
    ],
  };
}
