import { z } from "zod";
import { checkFreshness, dedupKey, parseEpoch, parseJsonBody } from "./common.ts";
import { concatBytes, decodeHex, utf8, verifyHmac } from "./crypto.ts";
import type { RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";

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
  if (request.method !== "POST") return refuse("sandbox", "method_not_allowed", "Sandbox webhooks are POST.");
  const header = request.headers.get("sandbox-signature");
  if (!header) return refuse("sandbox", "unauthenticated", "The sandbox-signature header is required.");
  const { timestamp, signatures } = parseSignatureHeader(header);
  if (timestamp === undefined || signatures.length === 0)
    return refuse("sandbox", "unauthenticated", "sandbox-signature must carry t= and v1=.");

  const message = concatBytes(utf8(`${timestamp}.`), request.body);
  let signed = false;
  for (const candidate of signatures) {
    const bytes = decodeHex(candidate);
    // Every candidate is checked, so the time taken does not tell which entry matched.
    if (bytes && (await verifyHmac("SHA-256", secrets.signingSecret, message, bytes))) signed = true;
  }
  if (!signed) return refuse("sandbox", "unauthenticated", "The sandbox-signature does not match the body.");

  const signedAtMs = parseEpoch(timestamp, "s");
  if (signedAtMs === undefined) return refuse("sandbox", "malformed", "sandbox-signature t= is not a Unix time in seconds.");
  const stale = checkFreshness("sandbox", signedAtMs, now);
  if (stale) return stale;

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

function parseSignatureHeader(header: string): { timestamp: string | undefined; signatures: string[] } {
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const index = part.indexOf("=");
    if (index < 0) continue;
    const key = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (key === "t") timestamp = value;
    else if (key === "v1") signatures.push(value);
  }
  return { timestamp, signatures };
}
