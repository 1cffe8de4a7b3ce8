/**
 * The Withings driver (DESIGN §7). References: https://developer.withings.com/api-reference
 * (OAuth2 requesttoken and revoke, Signature v2 getnonce, Measure getmeas, Sleep v2 getsummary,
 * Notify subscribe and revoke), https://developer.withings.com/llms.md, and
 * .../developer-guide/v3/integration-guide/public-health-data-api/get-access/sign-your-requests,
 * checked late 2026.
 *
 * Withings' API is unlike the others:
 * - Every call is a form POST to a service URL with an `action=` parameter, and every answer is
 *   HTTP 200 with `{status, body}`: `status` 0 is success, and the failures that other providers
 *   say with HTTP statuses are `status` values: 100, 101, 102, 200 and 401 (authentication failed:
 *   `UNAUTHENTICATED`), 601 (too many requests: `RATE_LIMITED`, 60 s since Withings sends no
 *   delay), anything else `PROVIDER_FAILED`. HTTP failures map as for every provider.
 * - The token endpoint answers the same envelope, so the generic OAuth client cannot read it: the
 *   code exchange and refresh are done here, and Withings' `userid` (the only way to learn who the
 *   person is: there is no profile endpoint) is returned as `ProviderTokens.providerUserId`.
 *   `profile` therefore cannot answer and says so; the connect flow uses the token's user id.
 *   Refresh tokens rotate.
 * - Revocation (`action=revoke` on /v2/oauth2) names the user and is signed: a nonce from
 *   `action=getnonce` on /v2/signature (signed over `getnonce,client_id,timestamp`), then the
 *   revoke signed over `revoke,client_id,nonce`, both hex HMAC-SHA256 under the client secret.
 * - Data: `measure` `getmeas` (`category=1`, real measures; `startdate`/`enddate` epoch seconds)
 *   and `v2/sleep` `getsummary` (`startdateymd`/`enddateymd`, inclusive days; `data_fields` the
 *   values the mapping reads). Both page with `more` + `offset`. ASSUMED: Withings documents no
 *   span limit; 30-day windows keep each answer small. The response's `timezone` is copied onto
 *   measure groups that lack their own, so a group carries its zone into `map`.
 * - Notifications are per user: `subscriptions.ensure` subscribes Pulse's `/webhooks/withings`
 *   (which answers Withings' HEAD check) for weight (appli 1), temperature (2), blood pressure,
 *   heart rate and SpO2 (4) and sleep (44) with the person's token; `remove` revokes them.
 * - 120 requests per minute for the whole app: the sync job's budget (registry `rateLimits`).
 */
import { DomainError } from "../../errors/domain-error";
import type { DriverContext, ProviderDriver, ProviderTokens, SubscriptionHooks, SyncCursor, TimeRange } from "../driver";
import { DEFAULT_RETRY_AFTER_SECONDS, providerRequest } from "../http";
import { oauthMethods, ProviderOAuthError } from "../oauth";
import { PROVIDERS } from "../registry";
import { inclusiveDays, mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { WITHINGS_MAPPINGS } from "./mapping";

const facts = PROVIDERS.withings;
const API = "https://wbsapi.withings.net";
const AUTH_FAILED = new Set([100, 101, 102, 200, 401]);
const TOO_MANY_REQUESTS = 601;

export const WITHINGS_WALK: WalkPlan = { dataTypes: Object.keys(WITHINGS_MAPPINGS), windowDays: 30 };
/** Notification categories Pulse maps: weight, temperature, pressure/heart/SpO2, sleep. */
export const WITHINGS_APPLIS = [1, 2, 4, 44] as const;
const SLEEP_FIELDS = "hr_average,rr_average";

function apiUrl(context: DriverContext, path: string): URL {
  return new URL(path, context.origin ?? API);
}

/** A refusal Withings wrote in the envelope's `status` (not an HTTP or network failure). */
class WithingsStatusError extends DomainError {
  readonly status: number;
  constructor(
    code: "UNAUTHENTICATED" | "RATE_LIMITED" | "PROVIDER_FAILED",
    detail: string,
    status: number,
    retryAfterSeconds?: number,
  ) {
    super(code, detail, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
    this.status = status;
  }
}

/** One Withings call: form POST, then the envelope's `status` read as the errors above. */
async function withingsCall(
  url: URL,
  params: Record<string, string>,
  accessToken: string | null,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (accessToken !== null) headers.Authorization = `Bearer ${accessToken}`;
  const answer = await providerRequest(url, "withings", { method: "POST", headers, body: new URLSearchParams(params) });
  const status = (answer as { status?: unknown } | null)?.status;
  if (typeof status !== "number") throw new DomainError("PROVIDER_FAILED", "Withings answered without a status.");
  if (AUTH_FAILED.has(status)) {
    throw new WithingsStatusError("UNAUTHENTICATED", "Withings no longer accepts this connection's access token.", status);
  }
  if (status === TOO_MANY_REQUESTS) {
    const detail = "Withings is rate-limiting Pulse; try again later.";
    throw new WithingsStatusError("RATE_LIMITED", detail, status, DEFAULT_RETRY_AFTER_SECONDS);
  }
  if (status !== 0) throw new WithingsStatusError("PROVIDER_FAILED", `Withings answered status ${status}.`, status);
  const body = (answer as { body?: unknown }).body;
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

// OAuth: the exchange and refresh read Withings' envelope.

async function requestToken(context: DriverContext, form: Record<string, string>): Promise<ProviderTokens> {
  const oauth = facts.oauth;
  if (!oauth) throw new DomainError("INTERNAL", "Withings is connected through OAuth.");
  let body: Record<string, unknown>;
  try {
    body = await withingsCall(
      apiUrl(context, new URL(oauth.tokenUrl).pathname),
      { action: "requesttoken", client_id: context.clientId, client_secret: context.clientSecret, ...form },
      null,
    );
  } catch (error) {
    throw oauthFailure(error);
  }
  const { access_token, refresh_token, expires_in, scope, userid } = body;
  if (typeof access_token !== "string" || access_token === "") {
    throw new ProviderOAuthError(null, false, new Error("Withings' token answer has no access_token."));
  }
  return {
    accessToken: access_token,
    refreshToken: typeof refresh_token === "string" && refresh_token !== "" ? refresh_token : null,
    accessTokenExpiresAt: typeof expires_in === "number" ? new Date(Date.now() + expires_in * 1000) : null,
    scopes: typeof scope === "string" ? scope.split(",").filter(Boolean) : null,
    ...(typeof userid === "string" || typeof userid === "number" ? { providerUserId: String(userid) } : {}),
  };
}

/**
 * A token request Withings refused: a rate limit or an unreachable Withings may pass, any other
 * status means the code or refresh token is not accepted (Withings sends no RFC 6749 error code;
 * `invalid_grant` is what the refresh job acts on).
 */
function oauthFailure(error: unknown): ProviderOAuthError {
  if (error instanceof WithingsStatusError && error.status !== TOO_MANY_REQUESTS) {
    return new ProviderOAuthError("invalid_grant", false, error);
  }
  return new ProviderOAuthError(null, true, error);
}

// Signed requests (revocation).

async function hmacHex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function nonce(context: DriverContext): Promise<string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = await hmacHex(context.clientSecret, `getnonce,${context.clientId},${timestamp}`);
  const body = await withingsCall(
    apiUrl(context, "/v2/signature"),
    { action: "getnonce", client_id: context.clientId, timestamp, signature },
    null,
  );
  if (typeof body.nonce !== "string") throw new DomainError("PROVIDER_FAILED", "Withings answered without a nonce.");
  return body.nonce;
}

async function revoke(context: DriverContext, tokens: { providerUserId?: string }) {
  if (!tokens.providerUserId) throw new DomainError("INTERNAL", "Withings revokes by user id; none was given.");
  const value = await nonce(context);
  const signature = await hmacHex(context.clientSecret, `revoke,${context.clientId},${value}`);
  await withingsCall(
    apiUrl(context, "/v2/oauth2"),
    { action: "revoke", client_id: context.clientId, nonce: value, signature, userid: tokens.providerUserId },
    null,
  );
}

// Data.

const epochSeconds = (date: Date) => String(Math.floor(date.getTime() / 1000));

async function fetchStep(context: DriverContext, accessToken: string, step: WalkStep) {
  const offset: Record<string, string> = step.pageToken === null ? {} : { offset: step.pageToken };
  let body: Record<string, unknown>;
  let list: string;
  if (step.dataType === "measure") {
    list = "measuregrps";
    body = await withingsCall(
      apiUrl(context, "/measure"),
      {
        action: "getmeas",
        category: "1",
        startdate: epochSeconds(step.windowStart),
        enddate: epochSeconds(step.windowEnd),
        ...offset,
      },
      accessToken,
    );
  } else {
    list = "series";
    const days = inclusiveDays(step);
    body = await withingsCall(
      apiUrl(context, "/v2/sleep"),
      {
        action: "getsummary",
        startdateymd: days.first,
        enddateymd: days.last,
        data_fields: SLEEP_FIELDS,
        ...offset,
      },
      accessToken,
    );
  }
  const items = body[list];
  if (!Array.isArray(items)) throw new DomainError("PROVIDER_FAILED", `Withings answered without ${list}.`);
  const zone = typeof body.timezone === "string" ? body.timezone : null;
  const tagged = zone === null ? items : items.map((item) => withZone(item, zone));
  const more = body.more === true || body.more === 1;
  const next = more && (typeof body.offset === "number" || typeof body.offset === "string") ? String(body.offset) : null;
  return { items: tagged, pageToken: next };
}

/** A measure group keeps its own zone; one without gets the response's. */
function withZone(item: unknown, zone: string): unknown {
  if (typeof item !== "object" || item === null || Array.isArray(item) || "timezone" in item) return item;
  return { ...item, timezone: zone };
}

// Per-user notifications.

function callbackUrl(context: DriverContext): string {
  return new URL("/webhooks/withings", context.redirectUri).toString();
}

function userToken(accessToken: string | null): string {
  if (accessToken === null) throw new DomainError("INTERNAL", "Withings notifications are per user: a token is needed.");
  return accessToken;
}

export const withingsSubscriptions: SubscriptionHooks = {
  async ensure(context, accessToken) {
    const token = userToken(accessToken);
    for (const appli of WITHINGS_APPLIS) {
      const params = { action: "subscribe", callbackurl: callbackUrl(context), appli: String(appli), comment: "Pulse" };
      await withingsCall(apiUrl(context, "/notify"), params, token);
    }
  },
  async renew() {},
  async remove(context, accessToken) {
    const token = userToken(accessToken);
    for (const appli of WITHINGS_APPLIS) {
      await withingsCall(
        apiUrl(context, "/notify"),
        { action: "revoke", callbackurl: callbackUrl(context), appli: String(appli) },
        token,
      );
    }
  },
};

export const withingsDriver: ProviderDriver<ProviderRecord> = {
  name: "withings",
  facts,
  ...oauthMethods(facts),
  exchangeCode: (context, code) =>
    requestToken(context, { grant_type: "authorization_code", code, redirect_uri: context.redirectUri }),
  refresh: (context, refreshToken) => requestToken(context, { grant_type: "refresh_token", refresh_token: refreshToken }),
  revoke,
  async profile() {
    throw new DomainError("INTERNAL", "Withings has no profile endpoint: its user id comes with the tokens (providerUserId).");
  },
  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, WITHINGS_WALK, (step) => fetchStep(context, accessToken, step)),
  map: (records, timeZone) =>
    mapRecords(
      records,
      WITHINGS_MAPPINGS,
      (type, items) => [{ status: 0, body: type === "measure" ? { measuregrps: items } : { series: items } }],
      timeZone,
    ),
  subscriptions: withingsSubscriptions,
};
