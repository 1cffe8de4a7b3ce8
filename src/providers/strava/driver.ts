/**
 * The Strava API v3 driver (DESIGN §7).
 *
 * Documentation followed:
 * - https://developers.strava.com/docs/authentication/ — OAuth with comma-separated scopes and
 *   rotating refresh tokens (./../oauth.ts does it from the registry); revocation is
 *   `POST https://www.strava.com/oauth/deauthorize` with the `access_token`.
 * - https://developers.strava.com/docs/reference/#api-Athletes-getLoggedInAthlete — `GET /athlete`:
 *   the athlete's numeric `id` (no IANA zone: each activity carries its own `timezone`).
 * - https://developers.strava.com/docs/reference/#api-Activities-getLoggedInAthleteActivities —
 *   `GET /athlete/activities?after&before&page&per_page` (epoch seconds; `per_page` at most 200).
 * - https://developers.strava.com/docs/webhooks/ — one push subscription per application, created
 *   with the client credentials (`POST /push_subscriptions` with `callback_url` and `verify_token`;
 *   Strava then calls the callback's `hub.challenge` handshake) and listed with
 *   `GET /push_subscriptions`.
 *
 * Paging: Strava documents no total or "next" marker; a page shorter than `per_page` is the last.
 * The page number is the cursor's page token. No request-window limit is documented
 * (`maxWindowDays` null), so a range is one window. Assumed, not stated by Strava: `after` is
 * exclusive (Pulse asks for one second earlier so an activity starting exactly at `since` is kept)
 * and `before` exclusive, matching Pulse's half-open ranges.
 */
import { DomainError } from "../../errors/domain-error";
import type { DriverContext, ProviderDriver, SubscriptionHooks, SyncCursor, TimeRange } from "../driver";
import { expectId, expectObject, providerGet, providerRequest } from "../http";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { STRAVA_MAPPINGS } from "./mapping";

const facts = PROVIDERS.strava;
const STRAVA_WALK: WalkPlan = { dataTypes: ["activities"], windowDays: facts.sync.maxWindowDays };
export const STRAVA_PAGE_SIZE = 200;

function apiUrl(context: DriverContext, path: string): URL {
  return new URL(`/api/v3${path}`, context.origin ?? "https://www.strava.com");
}

function pushSubscriptionsUrl(context: DriverContext): URL {
  const url = apiUrl(context, "/push_subscriptions");
  url.searchParams.set("client_id", context.clientId);
  url.searchParams.set("client_secret", context.clientSecret);
  return url;
}

/** Pulse's webhook route on the same origin as its OAuth callback (DESIGN §7). */
function callbackUrl(context: DriverContext): string {
  return new URL("/webhooks/strava", context.redirectUri).toString();
}

/**
 * The application's push subscription: created when absent; an existing one for another callback
 * is a conflict an operator must resolve at Strava (only one is allowed per application).
 */
const subscriptions: SubscriptionHooks = {
  async ensure(context) {
    const verifyToken = context.webhookVerificationToken;
    if (!verifyToken) throw new DomainError("INTERNAL", "Strava webhooks need webhookVerifyToken in PROVIDER_CREDENTIALS.");
    const body = await providerRequest(pushSubscriptionsUrl(context), "strava");
    const existing = Array.isArray(body) ? body : [];
    const callback = callbackUrl(context);
    if (existing.some((item) => expectObject(item, "strava", "a subscription").callback_url === callback)) return;
    if (existing.length > 0) {
      throw new DomainError("CONFLICT", "Strava already has a push subscription for another callback URL.");
    }
    const form = new URLSearchParams({
      client_id: context.clientId,
      client_secret: context.clientSecret,
      callback_url: callback,
      verify_token: verifyToken,
    });
    await providerRequest(apiUrl(context, "/push_subscriptions"), "strava", { method: "POST", body: form });
  },
  async renew() {
    // Strava push subscriptions do not expire.
  },
  async remove() {
    // The subscription is the application's, not the user's: deauthorizing stops the user's events.
  },
};

async function fetchStep(context: DriverContext, accessToken: string, step: WalkStep) {
  const pageNumber = step.pageToken === null ? 1 : Number(step.pageToken);
  if (!Number.isSafeInteger(pageNumber) || pageNumber < 1) {
    throw new DomainError("VALIDATION_FAILED", "The sync checkpoint does not belong to this range.", {
      errors: [{ path: "cursor.pageToken", message: "not a Strava page number" }],
    });
  }
  const url = apiUrl(context, "/athlete/activities");
  url.searchParams.set("after", String(Math.floor(step.windowStart.getTime() / 1000) - 1));
  url.searchParams.set("before", String(Math.floor(step.windowEnd.getTime() / 1000)));
  url.searchParams.set("page", String(pageNumber));
  url.searchParams.set("per_page", String(STRAVA_PAGE_SIZE));
  const body = await providerGet(url, accessToken, "strava");
  if (!Array.isArray(body)) throw new DomainError("PROVIDER_FAILED", "Strava's activity list is not a list.");
  return { items: body, pageToken: body.length >= STRAVA_PAGE_SIZE ? String(pageNumber + 1) : null };
}

export const stravaDriver: ProviderDriver<ProviderRecord> = {
  name: "strava",
  facts,
  ...oauthMethods(facts),

  async revoke(context, tokens) {
    const url = new URL("/oauth/deauthorize", context.origin ?? "https://www.strava.com");
    // A token Strava no longer accepts has nothing left to revoke.
    await providerRequest(url, "strava", {
      method: "POST",
      body: new URLSearchParams({ access_token: tokens.accessToken }),
      acceptStatuses: [401],
    });
  },

  async profile(context, accessToken) {
    const athlete = expectObject(await providerGet(apiUrl(context, "/athlete"), accessToken, "strava"), "strava", "an athlete");
    return { providerUserId: expectId(athlete, "id", "strava"), timeZone: null };
  },

  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, STRAVA_WALK, (step) => fetchStep(context, accessToken, step)),

  // `mapStravaActivities` takes the list Strava answers.
  map: (records, timeZone) => mapRecords(records, STRAVA_MAPPINGS, (_type, items) => [items], timeZone),

  subscriptions,
};
