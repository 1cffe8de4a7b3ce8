/**
 * The Terra driver (DESIGN §7). Terra is an aggregator: the person connects their wearable in
 * Terra's hosted widget, Terra holds that provider's tokens, and Pulse reads normalized data with
 * its own API key. There is no OAuth flow Pulse runs and no user token.
 *
 * Documentation followed (https://docs.tryterra.co/):
 * - `POST /v2/auth/generateWidgetSession` (headers `dev-id`, `x-api-key`) with `reference_id`,
 *   `auth_success_redirect_url`, `auth_failure_redirect_url` → `{url, session_id, expires_in}`;
 *   after connecting, the widget redirects with `user_id`, `reference_id` and `resource`
 *   (docs/quickstart, reference/generatewidgetsession).
 * - `GET /v2/userInfo?user_id` → `{user: {user_id, provider, reference_id, …}}`.
 * - `DELETE /v2/auth/deauthenticateUser?user_id`.
 * - Data endpoints `GET /v2/{activity,body,daily,sleep}?user_id&start_date&end_date&to_webhook=false`
 *   answer `{status, type, user, data: […]}` (reference/http-requests); `to_webhook=false` puts the
 *   data in the answer. "Data type requested not available from provider" is an empty page;
 *   "Request is processing" carries `retry_after` seconds. Requests over 28 days are delivered in
 *   chunks to the webhook instead (tryterra.co/community "chunking non-large requests"), hence
 *   28-day windows. Rate limits (reference/health-and-fitness-api/rate-limits): per user, 6,000
 *   requested days per rolling hour; 429 with `Retry-After`.
 *
 * Decisions:
 * - The callback's `reference_id` is the OAuth state and `user_id` stands in for the code
 *   (`readCallback`). The "code verifier" stored with the state is the state itself, so the code
 *   exchange can check that the Terra user was created by this very widget session (its
 *   `reference_id`): a callback carrying someone else's Terra user id is refused.
 * - `ProviderTokens.accessToken` is the Terra user id, with no refresh token and no expiry: Terra
 *   has no user token, and the hourly refresh never selects a connection without an expiry.
 * - A 401 from Terra refuses Pulse's API key, not the user: `PROVIDER_FAILED`. A 404 for the user
 *   means Terra no longer knows them (deauthenticated at Terra): `UNAUTHENTICATED`, so the sync
 *   job marks the connection for reconnection. (Assumed from Terra's error model; not documented.)
 */
import { DomainError } from "../../errors/domain-error";
import type { DriverContext, ProviderDriver, SyncCursor, TimeRange } from "../driver";
import { expectId, expectObject, providerFetch, readAnswer } from "../http";
import { PROVIDERS } from "../registry";
import { mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { TERRA_MAPPINGS, type TerraDataType } from "./mapping";

const facts = PROVIDERS.terra;
const TYPES: readonly TerraDataType[] = ["activity", "body", "daily", "sleep"];
const TERRA_WALK: WalkPlan = { dataTypes: TYPES, windowDays: facts.sync.maxWindowDays };
const PROCESSING = /processing/i;
const DEFAULT_PROCESSING_SECONDS = 30;

function apiUrl(context: DriverContext, path: string, query: Record<string, string> = {}): URL {
  const url = new URL(`/v2${path}`, context.origin ?? "https://api.tryterra.co");
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url;
}

/** A call with Pulse's developer credentials; see the header for what 401 and 404 mean. */
async function terraCall(
  context: DriverContext,
  url: URL,
  init: { method?: "GET" | "POST" | "DELETE"; body?: string; missingUserIsGone?: boolean } = {},
): Promise<unknown> {
  const devId = context.devId;
  if (!devId) throw new DomainError("INTERNAL", "Terra needs devId in PROVIDER_CREDENTIALS.");
  const response = await providerFetch(url, "terra", {
    method: init.method ?? "GET",
    headers: { "dev-id": devId, "x-api-key": context.clientSecret },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  if (response.status === 401 || response.status === 404) await response.body?.cancel();
  if (response.status === 401)
    throw new DomainError("PROVIDER_FAILED", "Terra refused Pulse's API key.", { extensions: { providerStatus: 401 } });
  if (response.status === 404) {
    if (init.missingUserIsGone === false) return null;
    throw new DomainError("UNAUTHENTICATED", "Terra no longer knows this user.");
  }
  return readAnswer(response, "terra");
}

async function userInfo(context: DriverContext, userId: string): Promise<Record<string, unknown>> {
  const body = expectObject(await terraCall(context, apiUrl(context, "/userInfo", { user_id: userId })), "terra", "a user");
  return expectObject(body.user, "terra", "a user");
}

/** The data items of one answer, or the wait Terra asks for while it prepares them. */
function itemsOf(body: unknown): unknown[] {
  const answer = expectObject(body, "terra", "a data answer");
  const status = typeof answer.status === "string" ? answer.status : "";
  if (PROCESSING.test(status)) {
    const wait =
      typeof answer.retry_after === "number" && answer.retry_after > 0
        ? Math.ceil(answer.retry_after)
        : DEFAULT_PROCESSING_SECONDS;
    throw new DomainError("RATE_LIMITED", "Terra is still preparing this data.", { retryAfterSeconds: wait });
  }
  if (answer.data === undefined) return [];
  if (!Array.isArray(answer.data)) throw new DomainError("PROVIDER_FAILED", "Terra's data is not a list.");
  // One record per item, each in Terra's own envelope so the mapping sees the source provider.
  return answer.data.map((item) => ({ type: answer.type, user: answer.user, data: [item] }));
}

/** One window of one data type; Terra answers it whole (no paging) or asks Pulse to wait. */
async function fetchStep(context: DriverContext, userId: string, step: WalkStep) {
  const url = apiUrl(context, `/${step.dataType}`, {
    user_id: userId,
    start_date: String(Math.floor(step.windowStart.getTime() / 1000)),
    end_date: String(Math.floor(step.windowEnd.getTime() / 1000)),
    to_webhook: "false",
    with_samples: "true",
  });
  return { items: itemsOf(await terraCall(context, url)), pageToken: null };
}

export const terraDriver: ProviderDriver<ProviderRecord> = {
  name: "terra",
  facts,

  async authorizationUrl(context, state) {
    const body = expectObject(
      await terraCall(context, apiUrl(context, "/auth/generateWidgetSession"), {
        method: "POST",
        body: JSON.stringify({
          reference_id: state,
          auth_success_redirect_url: context.redirectUri,
          auth_failure_redirect_url: context.redirectUri,
        }),
      }),
      "terra",
      "a widget session",
    );
    const url = typeof body.url === "string" && URL.canParse(body.url) ? new URL(body.url) : null;
    if (url === null || (url.protocol !== "https:" && context.origin === undefined)) {
      throw new DomainError("PROVIDER_FAILED", "Terra's widget session has no usable URL.");
    }
    return { url, codeVerifier: state };
  },

  readCallback(query) {
    const state = query.get("reference_id");
    const code = query.get("user_id");
    return state && code ? { code, state } : null;
  },

  async exchangeCode(context, code, codeVerifier) {
    const user = await userInfo(context, code);
    // Only the Terra user this widget session created: see the header.
    if (user.reference_id !== codeVerifier) {
      throw new DomainError("UNPROCESSABLE", "The Terra user does not belong to this connection attempt.");
    }
    return { accessToken: expectId(user, "user_id", "terra"), refreshToken: null, accessTokenExpiresAt: null, scopes: null };
  },

  async refresh() {
    throw new DomainError("UNPROCESSABLE", "Terra connections have no token to refresh.");
  },

  async revoke(context, tokens) {
    const url = apiUrl(context, "/auth/deauthenticateUser", { user_id: tokens.accessToken });
    await terraCall(context, url, { method: "DELETE", missingUserIsGone: false });
  },

  async profile(context, accessToken) {
    return { providerUserId: expectId(await userInfo(context, accessToken), "user_id", "terra"), timeZone: null };
  },

  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, TERRA_WALK, (step) => fetchStep(context, accessToken, step)),

  // Each record is already Terra's envelope around one item: one mapping input each.
  map: (records, timeZone) => mapRecords(records, TERRA_MAPPINGS, (_type, envelopes) => envelopes, timeZone),
};
