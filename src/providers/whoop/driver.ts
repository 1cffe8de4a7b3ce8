/**
 * The WHOOP API v2 driver (DESIGN §7). References: https://developer.whoop.com/api (v2 endpoints),
 * https://developer.whoop.com/docs/developing/oauth, .../pagination, .../rate-limiting, checked
 * late 2026.
 *
 * - OAuth from the registry: client secret in the form body, no PKCE; the `offline` scope is what
 *   makes WHOOP issue a refresh token, and refresh tokens rotate (each refresh answers a new one,
 *   the old one stops working), so the caller must store what `refresh` returns before using it.
 * - Revocation: `DELETE /developer/v2/user/access` with the user's bearer token (204); a token WHOOP
 *   no longer accepts (401) has nothing left to revoke.
 * - Profile: `GET /developer/v2/user/profile/basic` → `user_id` (an integer, kept as its decimal
 *   string, which is how webhooks name the user). WHOOP reports no time zone here (each record
 *   carries `timezone_offset`), so `timeZone` is null.
 * - Data: `GET /developer/v2/{recovery,activity/sleep,cycle,activity/workout}` with `start`, `end`
 *   (ISO instants), `limit` (at most 25) and `nextToken`; each answers `{records, next_token}`.
 *   WHOOP documents no limit on the span of `start`–`end`, so a range is one window, paged.
 * - Rate limits (100/min, 10,000/day, per app) are the sync job's; a 429 carries
 *   `X-RateLimit-Reset` (seconds), which `retryAfterSeconds` reads.
 * - Webhooks are configured once in WHOOP's developer dashboard: no subscription API.
 */
import type { DriverContext, ProviderDriver, SyncCursor, TimeRange } from "../driver";
import { expectId, expectList, expectObject, pageTokenOf, providerGet, providerRequest } from "../http";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { WHOOP_MAPPINGS } from "./mapping";

const facts = PROVIDERS.whoop;
const API = "https://api.prod.whoop.com";
/** WHOOP's documented maximum page size. */
export const WHOOP_PAGE_LIMIT = 25;

/** Each data type's collection path under `/developer/v2/`. */
const PATHS: Readonly<Record<keyof typeof WHOOP_MAPPINGS, string>> = {
  recovery: "recovery",
  sleep: "activity/sleep",
  cycle: "cycle",
  workout: "activity/workout",
};

export const WHOOP_WALK: WalkPlan = { dataTypes: Object.keys(PATHS), windowDays: null };

function apiUrl(context: DriverContext, path: string): URL {
  return new URL(`/developer/v2/${path}`, context.origin ?? API);
}

async function profile(context: DriverContext, accessToken: string) {
  const body = await providerGet(apiUrl(context, "user/profile/basic"), accessToken, "whoop");
  return { providerUserId: expectId(expectObject(body, "whoop", "a profile"), "user_id", "whoop"), timeZone: null };
}

async function fetchStep(context: DriverContext, accessToken: string, step: WalkStep) {
  const url = apiUrl(context, PATHS[step.dataType as keyof typeof PATHS]);
  url.searchParams.set("start", step.windowStart.toISOString());
  url.searchParams.set("end", step.windowEnd.toISOString());
  url.searchParams.set("limit", String(WHOOP_PAGE_LIMIT));
  if (step.pageToken !== null) url.searchParams.set("nextToken", step.pageToken);
  const body = await providerGet(url, accessToken, "whoop");
  return { items: expectList(body, "records", "whoop"), pageToken: pageTokenOf((body as { next_token?: unknown }).next_token) };
}

async function revoke(context: DriverContext, tokens: { accessToken: string }) {
  // A token WHOOP no longer accepts has nothing left to revoke.
  await providerRequest(apiUrl(context, "user/access"), "whoop", {
    method: "DELETE",
    headers: { Authorization: `Bearer ${tokens.accessToken}` },
    acceptStatuses: [401],
  });
}

export const whoopDriver: ProviderDriver<ProviderRecord> = {
  name: "whoop",
  facts,
  ...oauthMethods(facts),
  revoke,
  profile,
  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, WHOOP_WALK, (step) => fetchStep(context, accessToken, step)),
  map: (records, timeZone) => mapRecords(records, WHOOP_MAPPINGS, (_type, items) => [{ records: items }], timeZone),
};
