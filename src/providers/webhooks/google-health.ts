import { z } from "zod";
import { bodyDedupKey, parseJsonBody } from "./common.ts";
import { concatBytes, decodeBase64, timingSafeEqualText } from "./crypto.ts";
import type { ChangeHint, RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * Google Health API notifications, the successor of Fitbit's subscriptions
 * (https://developers.google.com/health/notifications, /health/webhooks and
 * /health/reference/rest/v4/projects.subscribers/create, checked 2026-12):
 * - Every request carries `Authorization` with exactly the secret registered on the subscriber
 *   (`endpointAuthorization.secret`, scheme included). Creating or updating the subscriber sends
 *   `POST {"type":"verification"}` twice: with the secret (expected answer 201 Created) and without
 *   it (expected 401 or 403). The first is the handshake below; the second is refused
 *   "unauthenticated", which the HTTP layer answers 401.
 * - Notifications are a JSON array of 1–99 `{data: {healthUserId, operation, dataType, intervals}}`,
 *   notify-only: the consumer re-fetches the intervals with the user's token.
 * - The payload is also signed: an ECDSA P-256 signature in `GOOGLE-HEALTH-API-SIGNATURE` (older
 *   reference pages name it `X-HEALTHAPI-SIGNATURE`; both are read). Google's public key and the
 *   signature's encoding are not published in the documentation available here, so Pulse verifies
 *   it as DESIGN §7 states — ECDSA P-256 with SHA-256 over the raw body, base64 of either DER or raw
 *   r‖s — against the keys configured in `signingKeys`, and requires it whenever keys are configured.
 *   Without keys the registered secret alone authenticates the delivery (`shared-secret`).
 */
const Interval = z.object({
  physicalTimeInterval: z
    .object({ startTime: z.iso.datetime({ offset: true }), endTime: z.iso.datetime({ offset: true }) })
    .optional(),
});
const Notification = z.object({
  data: z.object({
    version: z.string().optional(),
    clientProvidedSubscriptionName: z.string().optional(),
    healthUserId: z.string().min(1),
    operation: z.string().min(1),
    dataType: z.string().min(1),
    intervals: z.array(Interval).optional(),
  }),
});
const Notifications = z.array(Notification).min(1).max(99);
const Verification = z.object({ type: z.literal("verification") });

const SIGNATURE_HEADERS = ["google-health-api-signature", "x-healthapi-signature"];

export async function verifyGoogleHealth(
  request: RawWebhookRequest,
  secrets: NonNullable<WebhookSecrets["googleHealth"]>,
): Promise<WebhookOutcome> {
  if (request.method !== "POST")
    return refuse("google-health", "method_not_allowed", "Google Health API notifications are POST.");
  const authorization = request.headers.get("authorization");
  if (authorization === null || !(await timingSafeEqualText(authorization, secrets.authorization))) {
    return refuse(
      "google-health",
      "unauthenticated",
      "The Authorization header does not carry the registered subscriber secret.",
    );
  }
  if (parseJsonBody("google-health", request.body, Verification).ok) {
    return { kind: "handshake", provider: "google-health", response: { status: 201, body: null, contentType: null } };
  }

  const keys = secrets.signingKeys ?? [];
  if (keys.length > 0) {
    const header = SIGNATURE_HEADERS.map((name) => request.headers.get(name)).find((value) => value !== null);
    if (!header) return refuse("google-health", "unauthenticated", "The GOOGLE-HEALTH-API-SIGNATURE header is required.");
    if (!(await verifyEcdsaP256(keys, request.body, header.trim()))) {
      return refuse("google-health", "unauthenticated", "The GOOGLE-HEALTH-API-SIGNATURE does not match the body.");
    }
  }

  const parsed = parseJsonBody("google-health", request.body, Notifications);
  if (!parsed.ok) return parsed.refusal;
  const hints = parsed.value.flatMap(({ data }): ChangeHint[] => {
    const base = {
      providerUserId: data.healthUserId,
      dataType: data.dataType,
      operation: data.operation === "UPSERT" ? "upsert" : data.operation === "DELETE" ? "delete" : "other",
    } as const;
    const ranges = (data.intervals ?? []).flatMap((interval) =>
      interval.physicalTimeInterval ? [interval.physicalTimeInterval] : [],
    );
    if (ranges.length === 0) return [base];
    return ranges.map((range) => ({
      ...base,
      start: new Date(range.startTime).toISOString(),
      end: new Date(range.endTime).toISOString(),
    }));
  });
  const first = parsed.value[0];
  return {
    kind: "delivery",
    provider: "google-health",
    authenticity: keys.length > 0 ? "signed" : "shared-secret",
    eventType: parsed.value.length === 1 && first ? `${first.data.dataType}.${first.data.operation}` : "batch",
    // No notification id is sent: a redelivery repeats the same bytes, so the body's digest is the key.
    dedupKey: await bodyDedupKey("google-health", request.body),
    hints,
  };
}

async function verifyEcdsaP256(keys: JsonWebKey[], body: Uint8Array, encoded: string): Promise<boolean> {
  const decoded = decodeBase64(encoded);
  const signature = decoded && (decoded.length === 64 ? decoded : derToRaw(decoded));
  if (!signature) return false;
  for (const jwk of keys) {
    try {
      const key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      if (await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, concatBytes(body))) return true;
    } catch {
      // A key that does not import is skipped; the others may still verify.
    }
  }
  return false;
}

/** ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` → the 64-byte r‖s WebCrypto expects. */
export function derToRaw(der: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  // P-256 signatures are at most 72 bytes, so every length here is in DER's short form.
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const out = new Uint8Array(64);
  let offset = 2;
  for (const half of [0, 1]) {
    if (der[offset] !== 0x02) return undefined;
    const length = der[offset + 1] ?? 0;
    let value = der.subarray(offset + 2, offset + 2 + length);
    if (length === 0 || value.length !== length) return undefined;
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > 32) return undefined;
    out.set(value, half * 32 + (32 - value.length));
    offset += 2 + length;
  }
  return offset === der.length ? out : undefined;
}
