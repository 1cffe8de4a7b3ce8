import { z } from "zod";
import { checkFreshness, dedupKey, parseEpoch, parseJsonBody } from "./common.ts";
import { concatBytes, decodeBase64, utf8, verifyHmac } from "./crypto.ts";
import type { RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * WHOOP v2 webhooks (https://developer.whoop.com/docs/developing/webhooks, checked 2026-12):
 * `X-WHOOP-Signature` = base64(HMAC-SHA256(client secret, `X-WHOOP-Signature-Timestamp` + raw body)),
 * the timestamp in milliseconds. WHOOP states no tolerance: Pulse allows 5 minutes. Payloads are
 * notify-only: `user_id`, `id` (a UUID in v2, an integer in the legacy v1 model), `type`
 * (`sleep.updated`, `workout.deleted`, `recovery.updated`, …) and `trace_id`.
 */
const WhoopEvent = z.object({
  user_id: z.union([z.number().int(), z.string().min(1)]),
  id: z.union([z.string().min(1), z.number().int()]),
  type: z.string().regex(/^[a-z_]+\.[a-z_]+$/, "expected <object>.<action>"),
  trace_id: z.string().min(1).optional(),
});

export async function verifyWhoop(
  request: RawWebhookRequest,
  secrets: NonNullable<WebhookSecrets["whoop"]>,
  now: Date,
): Promise<WebhookOutcome> {
  if (request.method !== "POST") return refuse("whoop", "method_not_allowed", "WHOOP webhooks are POST.");
  const signatureHeader = request.headers.get("x-whoop-signature");
  const timestamp = request.headers.get("x-whoop-signature-timestamp");
  if (!signatureHeader || !timestamp) {
    return refuse("whoop", "unauthenticated", "The X-WHOOP-Signature and X-WHOOP-Signature-Timestamp headers are required.");
  }
  const signature = decodeBase64(signatureHeader.trim());
  const signed =
    signature && (await verifyHmac("SHA-256", secrets.clientSecret, concatBytes(utf8(timestamp), request.body), signature));
  if (!signed) return refuse("whoop", "unauthenticated", "The X-WHOOP-Signature does not match the body.");

  const signedAtMs = parseEpoch(timestamp.trim(), "ms");
  if (signedAtMs === undefined)
    return refuse("whoop", "malformed", "X-WHOOP-Signature-Timestamp is not a Unix time in milliseconds.");
  const stale = checkFreshness("whoop", signedAtMs, now);
  if (stale) return stale;

  const parsed = parseJsonBody("whoop", request.body, WhoopEvent);
  if (!parsed.ok) return parsed.refusal;
  const event = parsed.value;
  const [dataType = event.type, action] = event.type.split(".");
  return {
    kind: "delivery",
    provider: "whoop",
    authenticity: "signed",
    eventType: event.type,
    dedupKey: await dedupKey("whoop", [event.user_id, event.type, event.id, event.trace_id]),
    signedAt: new Date(signedAtMs).toISOString(),
    hints: [
      {
        providerUserId: String(event.user_id),
        dataType,
        operation: action === "updated" ? "upsert" : action === "deleted" ? "delete" : "other",
        objectId: String(event.id),
      },
    ],
  };
}
