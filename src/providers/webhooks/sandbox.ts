import { z } from "zod";
import { dedupKey, parseJsonBody } from "./common.ts";
import { verifyTimestampedHmac } from "./timestamped-hmac.ts";
import type { RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";

/**
 * Webhooks of Pulse's sandbox provider (tools/sandbox-provider/webhook.ts, docs/providers.md "The
 * sandbox provider"), a Terra-like scheme: `sandbox-signature: t=<unix seconds>,v1=<hex
 * HMAC-SHA256(signing secret, t + "." + raw body)>`, 5 minutes' tolerance either way. The body is
 * notify-only, `{"event_id", "user_id", "data_type", "start", "end"}`: whose data changed and when.
 * Unlike Terra the sandbox names each event, so the event id is the dedup key.
 */
const SandboxPayload = z.object({
  event_id: z.string().min(1).max(128),
  user_id: z.string().min(1).max(128),
  data_type: z.string().min(1).max(64),
  start: z.iso.datetime({ offset: true }),
  end: z.iso.datetime({ offset: true }),
});

export async function verifySandbox(
  request: RawWebhookRequest,
  secrets: NonNullable<WebhookSecrets["sandbox"]>,
  now: Date,
): Promise<WebhookOutcome> {
  const signature = await verifyTimestampedHmac("sandbox", request, "sandbox-signature", secrets.signingSecret, now);
  if ("kind" in signature) return signature;
  const { signedAtMs } = signature;

  const parsed = parseJsonBody("sandbox", request.body, SandboxPayload);
  if (!parsed.ok) return parsed.refusal;
  const event = parsed.value;
  return {
    kind: "delivery",
    provider: "sandbox",
    authenticity: "signed",
    eventType: "data.available",
    dedupKey: await dedupKey("sandbox", [event.event_id]),
    signedAt: new Date(signedAtMs).toISOString(),
    hints: [
      {
        providerUserId: event.user_id,
        dataType: event.data_type,
        operation: "upsert",
        start: new Date(event.start).toISOString(),
        end: new Date(event.end).toISOString(),
      },
    ],
  };
}
