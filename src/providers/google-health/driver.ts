/**
 * The Google Health API v4 driver (DESIGN §7): the successor of the Fitbit Web API.
 *
 * Documentation followed (https://developers.google.com/health):
 * - OAuth: Google OAuth 2.0 for web server apps with PKCE S256, `access_type=offline` and
 *   `prompt=consent` (a refresh token on every consent), RFC 7009 revocation at
 *   `https://oauth2.googleapis.com/revoke` — all from the registry through ../oauth.ts.
 * - `GET /v4/users/me/identity` (reference/rest/v4/users/getIdentity) → `{name, legacyUserId,
 *   healthUserId}`; `healthUserId` is the stable id. The zone lives in `users/me/settings`, which
 *   needs a settings scope Pulse does not ask for: data points carry their own UTC offsets.
 * - `GET /v4/users/me/dataTypes/{type}/dataPoints?filter&pageSize&pageToken`
 *   (reference/rest/v4/users.dataTypes.dataPoints/list) → `{dataPoints, nextPageToken}`. Filters
 *   follow AIP-160 with `>=` and `<`, data type ids with underscores in filters and hyphens in
 *   paths (health/filters): sample types on `{type}.sample_time.physical_time`, interval types on
 *   `{type}.interval.start_time`. `pageSize` is at most 10,000, and 25 for sleep.
 *
 * Walked types: `heart-rate`, `steps`, `sleep` (what ./mapping.ts maps). No request-window limit
 * is documented (`maxWindowDays` null): one window per range, walked by page token.
 *
 * Unconfirmed here: the filter field of sleep, a session type (assumed `sleep.interval.start_time`
 * like the interval types). Subscriber registration (`POST /v4/projects/{project}/subscribers`,
 * reference/rest/v4/projects.subscribers/create) is authorized by Google Cloud IAM on the project,
 * not by a user's token or the OAuth client secret, so it is an operator's one-off step
 * (docs/providers.md): this driver has no `subscriptions`. The webhook route answers Google's
 * verification POSTs.
 */
import type { DriverContext, ProviderDriver, SyncCursor, TimeRange } from "../driver";
import { expectId, expectObject, pageTokenOf, providerGet } from "../http";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { mapGoogleHealthDataPoints } from "./mapping";

const facts = PROVIDERS["google-health"];
const TYPES = ["heart-rate", "steps", "sleep"] as const;
type DataType = (typeof TYPES)[number];
const GOOGLE_HEALTH_WALK: WalkPlan = { dataTypes: TYPES, windowDays: facts.sync.maxWindowDays };

/** How each type is filtered by time, and how many points a page may hold. */
const QUERY: Readonly<Record<DataType, { field: string; pageSize: number }>> = {
  "heart-rate": { field: "heart_rate.sample_time.physical_time", pageSize: 10_000 },
  steps: { field: "steps.interval.start_time", pageSize: 10_000 },
  sleep: { field: "sleep.interval.start_time", pageSize: 25 },
};

const MAPPINGS = { "heart-rate": mapGoogleHealthDataPoints, steps: mapGoogleHealthDataPoints, sleep: mapGoogleHealthDataPoints };

function apiUrl(context: DriverContext, path: string): URL {
  return new URL(`/v4/users/me${path}`, context.origin ?? "https://health.googleapis.com");
}

async function fetchStep(context: DriverContext, accessToken: string, step: WalkStep) {
  const { field, pageSize } = QUERY[step.dataType as DataType];
  const url = apiUrl(context, `/dataTypes/${step.dataType}/dataPoints`);
  const [start, end] = [step.windowStart.toISOString(), step.windowEnd.toISOString()];
  url.searchParams.set("filter", `${field} >= "${start}" AND ${field} < "${end}"`);
  url.searchParams.set("pageSize", String(pageSize));
  if (step.pageToken !== null) url.searchParams.set("pageToken", step.pageToken);
  const body = expectObject(await providerGet(url, accessToken, "google-health"), "google-health", "a data point list");
  // Proto3 JSON leaves out empty fields: no `dataPoints` is an empty page, no token the last one.
  return { items: Array.isArray(body.dataPoints) ? body.dataPoints : [], pageToken: pageTokenOf(body.nextPageToken) };
}

export const googleHealthDriver: ProviderDriver<ProviderRecord> = {
  name: "google-health",
  facts,
  ...oauthMethods(facts),

  async profile(context, accessToken) {
    const identity = expectObject(
      await providerGet(apiUrl(context, "/identity"), accessToken, "google-health"),
      "google-health",
      "an identity",
    );
    return { providerUserId: expectId(identity, "healthUserId", "google-health"), timeZone: null };
  },

  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, GOOGLE_HEALTH_WALK, (step) => fetchStep(context, accessToken, step)),

  map: (records, timeZone) => mapRecords(records, MAPPINGS, (_type, points) => [{ dataPoints: points }], timeZone),
};
