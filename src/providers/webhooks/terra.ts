import { z } from "zod";
import { bodyDedupKey, checkFreshness, parseEpoch, parseJsonBody } from "./common.ts";
import { concatBytes, decodeHex, utf8, verifyHmac } from "./crypto.ts";
import type { ChangeHint, RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";

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
  if (request.method !== "POST") return refuse("terra", "method_not_allowed", "Terra webhooks are POST.");
  const header = request.headers.get("terra-signature");
  if (!header) return refuse("terra", "unauthenticated", "The terra-signature header is required.");
  const { timestamp, signatures } = parseSignatureHeader(header);
  if (timestamp === undefined || signatures.length === 0)
    return refuse("terra", "unauthenticated", "terra-signature must carry t= and v1=.");

  const message = concatBytes(utf8(`${timestamp}.`), request.body);
  let signed = false;
  for (const candidate of signatures) {
    const bytes = decodeHex(candidate);
    // Every candidate is checked, so the time taken does not tell which entry matched.
    if (bytes && (await verifyHmac("SHA-256", secrets.signingSecret, message, bytes))) signed = true;
  }
  if (!signed) return refuse("terra", "unauthenticated", "The terra-signature does not match the body.");

  const signedAtMs = parseEpoch(timestamp, "s");
  if (signedAtMs === undefined) return refuse("terra", "malformed", "terra-signature t= is not a Unix time in seconds.");
  const stale = checkFreshness("terra", signedAtMs, now);
  if (stale) return stale;

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
