import { z } from "zod";
import { dedupKey, isoFromSeconds, jsonHandshake, parseJsonBody } from "./common.ts";
import { timingSafeEqualText } from "./crypto.ts";
import type { ChangeHint, RawWebhookRequest, WebhookOutcome, WebhookSecrets } from "./types.ts";
import { refuse } from "./types.ts";

/**
 * Strava webhook events (https://developers.strava.com/docs/webhooks/ as DESIGN §7 states it; checked
 * 2026-12 against https://strava.github.io/api/v3/events and the Hookdeck Strava guide):
 * - subscription validation: `GET callback?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`,
 *   answered within two seconds with 200 and `{"hub.challenge": "<challenge>"}` when the verify token
 *   is ours;
 * - events are POSTed unsigned: anyone who knows the URL can send one. They are hints only — the
 *   consumer re-fetches with the athlete's token and never trusts the payload's data. An athlete
 *   event with `updates.authorized = "false"` is a deauthorization.
 */
const StravaEvent = z.object({
  aspect_type: z.enum(["create", "update", "delete"]),
  event_time: z.number().int().nonnegative(),
  object_id: z.number().int(),
  object_type: z.enum(["activity", "athlete"]),
  owner_id: z.number().int(),
  subscription_id: z.number().int(),
  updates: z.record(z.string(), z.unknown()).optional(),
});
type StravaEvent = z.infer<typeof StravaEvent>;

export async function verifyStrava(
  request: RawWebhookRequest,
  secrets: NonNullable<WebhookSecrets["strava"]>,
): Promise<WebhookOutcome> {
  if (request.method === "GET") return handshake(request, secrets);
  if (request.method !== "POST") return refuse("strava", "method_not_allowed", "Strava webhooks are GET (validation) or POST.");

  const parsed = parseJsonBody("strava", request.body, StravaEvent);
  if (!parsed.ok) return parsed.refusal;
  const event = parsed.value;
  // Not authentication (the id is not secret), but an event for another subscription is not ours.
  if (secrets.subscriptionId !== undefined && event.subscription_id !== secrets.subscriptionId) {
    return refuse("strava", "unauthenticated", "The event belongs to another subscription.");
  }
  const updates = Object.entries(event.updates ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join("&");
  return {
    kind: "delivery",
    provider: "strava",
    authenticity: "unsigned-hint",
    eventType: `${event.object_type}.${event.aspect_type}`,
    dedupKey: await dedupKey("strava", [
      event.subscription_id,
      event.owner_id,
      event.object_type,
      event.object_id,
      event.aspect_type,
      event.event_time,
      updates,
    ]),
    hints: [hintOf(event)],
  };
}

function hintOf(event: StravaEvent): ChangeHint {
  const at = isoFromSeconds(event.event_time);
  if (event.object_type === "athlete") {
    const deauthorized = String(event.updates?.authorized) === "false";
    return { providerUserId: String(event.owner_id), dataType: "athlete", operation: deauthorized ? "deauthorize" : "other" };
  }
  return {
    providerUserId: String(event.owner_id),
    dataType: "activity",
    operation: event.aspect_type === "delete" ? "delete" : "upsert",
    objectId: String(event.object_id),
    ...(at === undefined ? {} : { start: at, end: at }),
  };
}

async function handshake(request: RawWebhookRequest, secrets: NonNullable<WebhookSecrets["strava"]>): Promise<WebhookOutcome> {
  const query = new URL(request.url).searchParams;
  const mode = query.get("hub.mode");
  const challenge = query.get("hub.challenge");
  const token = query.get("hub.verify_token");
  if (mode !== "subscribe" || !challenge || token === null) {
    return refuse("strava", "malformed", "hub.mode=subscribe, hub.challenge and hub.verify_token are required.");
  }
  if (!(await timingSafeEqualText(token, secrets.verifyToken))) {
    return refuse("strava", "unauthenticated", "The hub.verify_token is not the one registered.");
  }
  return { kind: "handshake", provider: "strava", response: jsonHandshake(200, { "hub.challenge": challenge }) };
}
