/**
 * The Oura API v2 driver (DESIGN §7). Reference: https://cloud.ouraring.com/v2/docs (OpenAPI
 * https://cloud.ouraring.com/v2/static/json/openapi-1.35.json), checked late 2026.
 *
 * - OAuth from the registry (client secret in the form body, no PKCE). Revocation is Oura's own
 *   call, `GET https://api.ouraring.com/oauth/revoke?access_token=…` (Oura's OAuth page); a token
 *   Oura no longer knows (400/401) has nothing left to revoke.
 * - Profile: `GET /v2/usercollection/personal_info` → `id`. Oura reports no time zone: its
 *   documents carry the ring's offset in their timestamps, so `timeZone` is null.
 * - Data: `GET /v2/usercollection/{daily_activity,heartrate,sleep,daily_spo2,workout}`, the types
 *   `OURA_MAPPINGS` maps, each answering `{data, next_token}`. Heart rate takes
 *   `start_datetime`/`end_datetime` (instants); the others `start_date`/`end_date` (days, both
 *   taken as inclusive, so a window's last day is the day before its end instant).
 * - Windows: Oura documents no request span for the daily collections; heart rate is sampled every
 *   few minutes and Oura's guidance is to ask for at most 30 days at a time. ASSUMED: 30-day windows
 *   for every type (no limit is confirmed in the registry, `maxWindowDays` stays null).
 * - Webhooks are app-level and expire: `subscriptions.ensure` creates one per data type and event
 *   (`create`, `update`) at `POST /v2/webhook/subscription`, `renew` extends the ones expiring
 *   within a week with `PUT /v2/webhook/subscription/renew/{id}`; both authenticate the app with
 *   the `x-client-id` / `x-client-secret` headers. The callback is Pulse's `/webhooks/oura` on the
 *   origin of the OAuth callback; Oura verifies it with the `verification_token` echo
 *   (src/providers/webhooks/oura.ts). Deletions are not subscribed: a delete notice would trigger
 *   a fetch that finds nothing to store.
 */
import { DomainError } from "../../errors/domain-error";
import type { DriverContext, ProviderDriver, SubscriptionHooks, SyncCursor, TimeRange } from "../driver";
import { expectId, expectList, expectObject, pageTokenOf, providerGet, providerRequest } from "../http";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { inclusiveDays, mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { OURA_MAPPINGS } from "./mapping";

const facts = PROVIDERS.oura;
const API = "https://api.ouraring.com";
const DAY_MS = 86_400_000;

/** ASSUMED 30-day requests (see the header); the walk order is the mappings' order. */
export const OURA_WALK: WalkPlan = { dataTypes: Object.keys(OURA_MAPPINGS), windowDays: 30 };

/** Subscriptions are renewed when they expire within this many days (Oura does not publish the lifetime). */
const RENEW_WITHIN_MS = 7 * DAY_MS;
const EVENT_TYPES = ["create", "update"] as const;

function apiUrl(context: DriverContext, path: string): URL {
  return new URL(path, context.origin ?? API);
}

async function profile(context: DriverContext, accessToken: string) {
  const body = await providerGet(apiUrl(context, "/v2/usercollection/personal_info"), accessToken, "oura");
  return { providerUserId: expectId(expectObject(body, "oura", "personal info"), "id", "oura"), timeZone: null };
}

async function fetchStep(context: DriverContext, accessToken: string, step: WalkStep) {
  const url = apiUrl(context, `/v2/usercollection/${step.dataType}`);
  if (step.dataType === "heartrate") {
    url.searchParams.set("start_datetime", step.windowStart.toISOString());
    url.searchParams.set("end_datetime", step.windowEnd.toISOString());
  } else {
    const days = inclusiveDays(step);
    url.searchParams.set("start_date", days.first);
    url.searchParams.set("end_date", days.last);
  }
  if (step.pageToken !== null) url.searchParams.set("next_token", step.pageToken);
  const body = await providerGet(url, accessToken, "oura");
  return { items: expectList(body, "data", "oura"), pageToken: pageTokenOf((body as { next_token?: unknown }).next_token) };
}

async function revoke(context: DriverContext, tokens: { accessToken: string }) {
  const target = apiUrl(context, new URL(facts.oauth?.revocation.url ?? `${API}/oauth/revoke`).pathname);
  target.searchParams.set("access_token", tokens.accessToken);
  // A token Oura no longer knows (400, 401) is as revoked as it gets.
  await providerRequest(target, "oura", { acceptStatuses: [400, 401] });
}

// App-level webhook subscriptions (https://cloud.ouraring.com/v2/docs#tag/Webhook-Subscription-Routes).

interface OuraSubscription {
  id: string;
  callback_url: string;
  event_type: string;
  data_type: string;
  expiration_time: string;
}

function appHeaders(context: DriverContext): Record<string, string> {
  return { "x-client-id": context.clientId, "x-client-secret": context.clientSecret };
}

function callbackUrl(context: DriverContext): string {
  return new URL("/webhooks/oura", context.redirectUri).toString();
}

async function listSubscriptions(context: DriverContext): Promise<OuraSubscription[]> {
  const body = await providerRequest(apiUrl(context, "/v2/webhook/subscription"), "oura", { headers: appHeaders(context) });
  if (!Array.isArray(body)) throw new DomainError("PROVIDER_FAILED", "Oura's subscription list is not a list.");
  return body.filter(
    (item): item is OuraSubscription =>
      typeof item === "object" && item !== null && typeof item.id === "string" && item.callback_url === callbackUrl(context),
  );
}

export const ouraSubscriptions: SubscriptionHooks = {
  async ensure(context) {
    const verificationToken = context.webhookVerificationToken;
    if (!verificationToken) {
      throw new DomainError("INTERNAL", "Oura webhooks need webhookVerificationToken in PROVIDER_CREDENTIALS.");
    }
    const existing = await listSubscriptions(context);
    for (const dataType of OURA_WALK.dataTypes) {
      for (const eventType of EVENT_TYPES) {
        if (existing.some((s) => s.data_type === dataType && s.event_type === eventType)) continue;
        await providerRequest(apiUrl(context, "/v2/webhook/subscription"), "oura", {
          method: "POST",
          headers: { ...appHeaders(context), "Content-Type": "application/json" },
          body: JSON.stringify({
            callback_url: callbackUrl(context),
            verification_token: verificationToken,
            event_type: eventType,
            data_type: dataType,
          }),
        });
      }
    }
  },
  async renew(context) {
    const soon = Date.now() + RENEW_WITHIN_MS;
    for (const subscription of await listSubscriptions(context)) {
      const expires = Date.parse(subscription.expiration_time);
      if (!Number.isNaN(expires) && expires > soon) continue;
      const path = `/v2/webhook/subscription/renew/${encodeURIComponent(subscription.id)}`;
      await providerRequest(apiUrl(context, path), "oura", { method: "PUT", headers: appHeaders(context) });
    }
  },
  // Subscriptions are the app's, not the user's: nothing to remove when one person disconnects.
  async remove() {},
};

export const ouraDriver: ProviderDriver<ProviderRecord> = {
  name: "oura",
  facts,
  ...oauthMethods(facts),
  revoke,
  profile,
  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, OURA_WALK, (step) => fetchStep(context, accessToken, step)),
  map: (records, timeZone) => mapRecords(records, OURA_MAPPINGS, (_type, items) => [{ data: items }], timeZone),
  subscriptions: ouraSubscriptions,
};
