import { z } from "zod";
import { bodyDedupKey, parseJsonBody } from "./common.ts";
import { verifyTimestampedHmac } from "./timestamped-hmac.ts";
import type { ChangeHint, RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";

/**
 * Terra webhooks (https://docs.tryterra.co/reference/signing and
 * https://docs.tryterra.co/health-and-fitness-api/integration-setup/setting-up-data-destinations/webhooks,
 * checked 2026-12): `terra-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(signing secret,
 * t + "." + raw body)>`. Several `v1` entries may appear while a secret is rotated; any one matching
 * is enough. Terra states no tolerance for this API: Pulse allows 5 minutes.
 *
 * Terra pushes whole normalised payloads (`type`, `user`, `data[]`), not only notifications; Pulse
 * still treats them as a hint to re-fetch, and keeps the payload itself only as the stored raw record.
 * Terra sends no event id, so re-deliveries of the same body are recognised by the body's digest.
 */
const TerraPayload = z.object({
  type: z.string().min(1),
  user: z
    .object({ user_id: z.string().min(1), provider: z.string().optional() })
    .loose()
    .nullable()
    .optional(),
  data: z
    .array(
      z
        .object({ metadata: z.object({ start_time: z.string().optional(), end_time: z.string().optional() }).loose().optional() })
        .loose(),
    )
    .optional(),
});

const REVOCATIONS = new Set(["deauth", "access_revoked", "user_deauth"]);
const DATA_TYPES = new Set(["activity", "athlete", "body", "daily", "menstruation", "nutrition", "sleep", "planned_workout"]);

export async function verifyTerra(
  request: RawWebhookRequest,
  secrets: NonNullable<WebhookSecrets["terra"]>,
  now: Date,
): Promise<WebhookOutcome> {
  const signature = await verifyTimestampedHmac("terra", request, "terra-signature", secrets.signingSecret, now);
  if ("kind" in signature) return signature;
  const { signedAtMs } = signature;

  const parsed = parseJsonBody("terra", request.body, TerraPayload);
  if (!parsed.ok) return parsed.refusal;
  const payload = parsed.value;
  return {
    kind: "delivery",
    provider: "terra",
    authenticity: "signed",
    eventType: payload.type,
    dedupKey: await bodyDedupKey("terra", request.body),
    signedAt: new Date(signedAtMs).toISOString(),
    hints: payload.user ? [hintOf(payload.type, payload.user.user_id, payload.data ?? [])] : [],
  };
}

function hintOf(
  type: string,
  userId: string,
  data: ReadonlyArray<{ metadata?: { start_time?: string; end_time?: string } }>,
): ChangeHint {
  const operation = REVOCATIONS.has(type) ? "deauthorize" : DATA_TYPES.has(type) ? "upsert" : "other";
  const starts = data
    .map((item) => item.metadata?.start_time)
    .filter(isInstant)
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  const ends = data
    .map((item) => item.metadata?.end_time)
    .filter(isInstant)
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  const start = starts[0];
  const end = ends[ends.length - 1];
  return {
    providerUserId: userId,
    dataType: type,
    operation,
    ...(start === undefined ? {} : { start: new Date(start).toISOString() }),
    ...(end === undefined ? {} : { end: new Date(end).toISOString() }),
  };
}

function isInstant(value: string | undefined): value is string {
  return value !== undefined && !Number.isNaN(Date.parse(value));
}
