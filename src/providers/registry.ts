/**
 * The providers Pulse can connect (DESIGN §7) and the facts each driver builds on: OAuth endpoints
 * and scopes, PKCE, how the token endpoint authenticates the client, how revocation works, what
 * kind of webhook the provider sends, how far back data can be fetched, and the rate limits.
 *
 * Facts come from each provider's developer documentation (late 2026; the URL is cited on each
 * entry). They are data, not behaviour: the drivers (src/providers/<name>/) read them, and a
 * fact that changes is changed here once. Scopes are the read-only set Pulse asks for, never
 * write scopes. `null` means "no such limit documented", not "unlimited".
 */

export const PROVIDER_NAMES = [
  "oura",
  "whoop",
  "withings",
  "google-health",
  "dexcom",
  "strava",
  "polar",
  "terra",
  "sandbox",
] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function isProviderName(value: unknown): value is ProviderName {
  return typeof value === "string" && (PROVIDER_NAMES as readonly string[]).includes(value);
}

/**
 * How the client proves itself at the token endpoint (RFC 6749 §2.3.1): HTTP Basic
 * (`client_secret_basic`) or `client_id` + `client_secret` in the form body (`client_secret_post`).
 */
export type ClientAuthentication = "basic" | "body";

export interface OAuthFacts {
  authorizeUrl: string;
  tokenUrl: string;
  /** Scopes Pulse requests, and how the provider wants them joined in the `scope` parameter. */
  scopes: readonly string[];
  scopeSeparator: " " | ",";
  /** PKCE with S256 (RFC 7636) documented as supported; Pulse always sends it when it is. */
  pkce: boolean;
  clientAuthentication: ClientAuthentication;
  /** Issues refresh tokens (some long-lived tokens never expire and have none). */
  refreshTokens: boolean;
  /** Extra fixed parameters on the authorize URL, e.g. Google's `access_type=offline`. */
  authorizeParams?: Readonly<Record<string, string>>;
  /** Extra fixed parameters on every token request, e.g. Withings' `action=requesttoken`. */
  tokenParams?: Readonly<Record<string, string>>;
  /**
   * `rfc7009`: a standard revocation endpoint. `provider-api`: revoking is a provider-specific
   * call (a DELETE with the access token, a signed request); the driver implements it.
   * `none`: only the user can revoke, at the provider.
   */
  revocation: { style: "rfc7009" | "provider-api" | "none"; url: string | null };
}

/**
 * How a provider tells Pulse about new data. `payload`: whether a notification carries the data
 * or only says what changed (Pulse then fetches it). `signature`: how authenticity is proven.
 * `handshake`: what the provider does when a webhook or subscription is created.
 * The verification itself is src/providers/webhooks/ (DESIGN §7, ../shared/data/providers/).
 */
export interface WebhookFacts {
  payload: "data" | "notify-only";
  signature: "hmac-sha256" | "ecdsa-p256" | "none";
  handshake: "verification-challenge" | "hub-challenge" | "ping" | "head" | "subscriber-verification" | "none";
  /** Subscriptions are registered once for the app, or per connected user. */
  subscriptionScope: "app" | "user";
  /** Subscriptions expire and must be renewed. */
  subscriptionsExpire: boolean;
}

export interface RateLimit {
  requests: number;
  perSeconds: number;
  /** Whose budget it is: the whole app's, or each connected user's. */
  per: "app" | "user";
}

export interface SyncFacts {
  /** How far back the first backfill may reach, in days. */
  backfillDays: number | null;
  /** The longest time range one data request may ask for, in days. */
  maxWindowDays: number | null;
  rateLimits: readonly RateLimit[];
}

export interface ProviderFacts {
  name: ProviderName;
  displayName: string;
  /** `oauth2`: Pulse runs the authorization-code flow. `widget`: an aggregator's hosted widget does. */
  authorization: "oauth2" | "widget";
  oauth: OAuthFacts | null;
  /** `null`: no webhooks, Pulse polls. */
  webhook: WebhookFacts | null;
  sync: SyncFacts;
  /** API hosts by region, when the provider has several (the first is the default). */
  regions?: Readonly<Record<string, string>>;
  docs: string;
}

const MINUTE = 60;
const DAY = 24 * 60 * MINUTE;

export const PROVIDERS: Readonly<Record<ProviderName, ProviderFacts>> = {
  // https://cloud.ouraring.com/v2/docs (OAuth2, Webhooks, Rate limiting): 5,000 requests per
  // 5 minutes; webhook subscriptions verified by a GET echoing `challenge`, expire, renewable.
  oura: {
    name: "oura",
    displayName: "Oura",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "https://cloud.ouraring.com/oauth/authorize",
      tokenUrl: "https://api.ouraring.com/oauth/token",
      scopes: ["personal", "daily", "heartrate", "workout", "session", "spo2"],
      scopeSeparator: " ",
      pkce: false,
      clientAuthentication: "body",
      refreshTokens: true,
      revocation: { style: "provider-api", url: "https://api.ouraring.com/oauth/revoke" },
    },
    webhook: {
      payload: "notify-only",
      signature: "hmac-sha256",
      handshake: "verification-challenge",
      subscriptionScope: "app",
      subscriptionsExpire: true,
    },
    sync: { backfillDays: null, maxWindowDays: null, rateLimits: [{ requests: 5000, perSeconds: 5 * MINUTE, per: "app" }] },
    docs: "https://cloud.ouraring.com/v2/docs",
  },
  // https://developer.whoop.com/docs/developing/oauth (endpoints; `offline` scope for refresh
  // tokens, which rotate), .../rate-limiting (100/min, 10,000/day), .../webhooks (v2, UUID ids).
  whoop: {
    name: "whoop",
    displayName: "WHOOP",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "https://api.prod.whoop.com/oauth/oauth2/auth",
      tokenUrl: "https://api.prod.whoop.com/oauth/oauth2/token",
      scopes: ["offline", "read:profile", "read:recovery", "read:cycles", "read:sleep", "read:workout", "read:body_measurement"],
      scopeSeparator: " ",
      pkce: false,
      clientAuthentication: "body",
      refreshTokens: true,
      // DELETE /developer/v2/user/access with the user's bearer token.
      revocation: { style: "provider-api", url: "https://api.prod.whoop.com/developer/v2/user/access" },
    },
    webhook: {
      payload: "notify-only",
      signature: "hmac-sha256",
      handshake: "none",
      subscriptionScope: "app",
      subscriptionsExpire: false,
    },
    sync: {
      backfillDays: null,
      maxWindowDays: null,
      rateLimits: [
        { requests: 100, perSeconds: MINUTE, per: "app" },
        { requests: 10_000, perSeconds: DAY, per: "app" },
      ],
    },
    docs: "https://developer.whoop.com/docs/developing/oauth",
  },
  // https://developer.withings.com/developer-guide/v3/integration-guide/public-health-data-api/get-access/oauth-web-flow
  // Comma-separated scopes; the token call needs `action=requesttoken` and answers HTTP 200 with
  // `{status, body}` even on errors; revocation is a signed `action=revoke` call. Notifications:
  // per-user `notify` subscriptions, unsigned, the callback must answer HEAD; 120 requests/min.
  withings: {
    name: "withings",
    displayName: "Withings",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "https://account.withings.com/oauth2_user/authorize2",
      tokenUrl: "https://wbsapi.withings.net/v2/oauth2",
      scopes: ["user.info", "user.metrics", "user.activity", "user.sleepevents"],
      scopeSeparator: ",",
      pkce: false,
      clientAuthentication: "body",
      refreshTokens: true,
      tokenParams: { action: "requesttoken" },
      revocation: { style: "provider-api", url: "https://wbsapi.withings.net/v2/oauth2" },
    },
    webhook: {
      payload: "notify-only",
      signature: "none",
      handshake: "head",
      subscriptionScope: "user",
      subscriptionsExpire: false,
    },
    sync: { backfillDays: null, maxWindowDays: null, rateLimits: [{ requests: 120, perSeconds: MINUTE, per: "app" }] },
    docs: "https://developer.withings.com/api-reference",
  },
  // https://developers.google.com/health/scopes (all scopes start with
  // https://www.googleapis.com/auth/googlehealth); Google OAuth 2.0 for web server apps
  // (https://developers.google.com/identity/protocols/oauth2/web-server): PKCE S256, refresh tokens
  // only with access_type=offline, RFC 7009 revocation. Fitbit's Web API, decommissioned in
  // September 2026, is replaced by this; its notifications carry an ECDSA P-256 signature after a
  // subscriber verification step, and only list changed data types and intervals.
  "google-health": {
    name: "google-health",
    displayName: "Google Health (Fitbit)",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenUrl: "https://oauth2.googleapis.com/token",
      scopes: [
        "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
        "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",
        "https://www.googleapis.com/auth/googlehealth.sleep.readonly",
        "https://www.googleapis.com/auth/googlehealth.nutrition.readonly",
        "https://www.googleapis.com/auth/googlehealth.profile.readonly",
      ],
      scopeSeparator: " ",
      pkce: true,
      clientAuthentication: "basic",
      refreshTokens: true,
      // Without `prompt=consent` Google returns a refresh token only on the first consent.
      authorizeParams: { access_type: "offline", prompt: "consent", include_granted_scopes: "true" },
      revocation: { style: "rfc7009", url: "https://oauth2.googleapis.com/revoke" },
    },
    webhook: {
      payload: "notify-only",
      signature: "ecdsa-p256",
      handshake: "subscriber-verification",
      subscriptionScope: "app",
      subscriptionsExpire: false,
    },
    sync: { backfillDays: null, maxWindowDays: null, rateLimits: [] },
    docs: "https://developers.google.com/health",
  },
  // https://developer.dexcom.com/docs/dexcom/authentication (/v2/oauth2/login and /token on every
  // host, scope offline_access, client credentials in the form body) and
  // https://developer.dexcom.com/docs/dexcomv3/endpoint-overview (US, EU/outside-US, JP and sandbox
  // hosts; 60,000 calls per app per hour). No webhooks: poll, data arrives delayed by about an
  // hour. DESIGN §7 records 90-day request windows (v2); v3 documents 30 days, and a 30-day window
  // satisfies both.
  dexcom: {
    name: "dexcom",
    displayName: "Dexcom",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "https://api.dexcom.com/v2/oauth2/login",
      tokenUrl: "https://api.dexcom.com/v2/oauth2/token",
      scopes: ["offline_access"],
      scopeSeparator: " ",
      pkce: false,
      clientAuthentication: "body",
      refreshTokens: true,
      revocation: { style: "none", url: null },
    },
    webhook: null,
    sync: { backfillDays: null, maxWindowDays: 30, rateLimits: [{ requests: 60_000, perSeconds: 60 * MINUTE, per: "app" }] },
    regions: {
      us: "https://api.dexcom.com",
      eu: "https://api.dexcom.eu",
      jp: "https://api.dexcom.jp",
      sandbox: "https://sandbox-api.dexcom.com",
    },
    docs: "https://developer.dexcom.com/docs/dexcomv3/endpoint-overview",
  },
  // https://developers.strava.com/docs/authentication/ (comma-separated scopes, refresh tokens
  // rotate, POST /oauth/deauthorize), https://developers.strava.com/docs/rate-limits/ (read:
  // 100 per 15 minutes and 1,000 per day), https://developers.strava.com/docs/webhooks/ (one app
  // subscription, `hub.challenge` handshake, unsigned events, deauthorization events).
  strava: {
    name: "strava",
    displayName: "Strava",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "https://www.strava.com/oauth/authorize",
      tokenUrl: "https://www.strava.com/oauth/token",
      scopes: ["read", "activity:read_all", "profile:read_all"],
      scopeSeparator: ",",
      pkce: false,
      clientAuthentication: "body",
      refreshTokens: true,
      authorizeParams: { approval_prompt: "auto" },
      revocation: { style: "provider-api", url: "https://www.strava.com/oauth/deauthorize" },
    },
    webhook: {
      payload: "notify-only",
      signature: "none",
      handshake: "hub-challenge",
      subscriptionScope: "app",
      subscriptionsExpire: false,
    },
    sync: {
      backfillDays: null,
      maxWindowDays: null,
      rateLimits: [
        { requests: 100, perSeconds: 15 * MINUTE, per: "app" },
        { requests: 1000, perSeconds: DAY, per: "app" },
      ],
    },
    docs: "https://developers.strava.com/docs/",
  },
  // https://www.polar.com/accesslink-api/ (AccessLink v3): HTTP Basic at the token endpoint, no
  // refresh tokens (long-lived access tokens), the user must be registered (POST /v3/users) before
  // any data call and is de-registered with DELETE /v3/users/{id}; webhooks created with a ping
  // that must get 200, signed with HMAC-SHA256 under a secret shown once. Rate limits grow with
  // the number of registered users: 500 + 20 × users per 15 minutes (the base is listed here).
  // `GET /v3/exercises` lists the last 30 days and Nightly Recharge the last 28, with no range
  // parameter: a backfill reaches 30 days back at most.
  // arctic's `Polar` client is for polar.sh, not Polar Electro: the generic client is used.
  polar: {
    name: "polar",
    displayName: "Polar",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "https://flow.polar.com/oauth2/authorization",
      tokenUrl: "https://polarremote.com/v2/oauth2/token",
      scopes: ["accesslink.read_all"],
      scopeSeparator: " ",
      pkce: false,
      clientAuthentication: "basic",
      refreshTokens: false,
      revocation: { style: "provider-api", url: "https://www.polaraccesslink.com/v3/users" },
    },
    webhook: {
      payload: "notify-only",
      signature: "hmac-sha256",
      handshake: "ping",
      subscriptionScope: "app",
      subscriptionsExpire: false,
    },
    sync: {
      backfillDays: 30,
      maxWindowDays: null,
      rateLimits: [
        { requests: 500, perSeconds: 15 * MINUTE, per: "app" },
        { requests: 5000, perSeconds: DAY, per: "app" },
      ],
    },
    docs: "https://www.polar.com/accesslink-api/",
  },
  // https://docs.tryterra.co/ : an aggregator. Users connect through Terra's hosted widget
  // (POST /v2/auth/generateWidgetSession with the `dev-id` and `x-api-key` headers), not an OAuth
  // flow Pulse runs; Terra pushes data to the webhook signed `terra-signature: t=…,v1=<hex HMAC>`;
  // users are removed with DELETE /v2/auth/deauthenticateUser. Data requests over 28 days are
  // chunked to the webhook instead of answered (tryterra.co/community "chunking non-large
  // requests"), hence 28-day windows; https://docs.tryterra.co/reference/health-and-fitness-api/rate-limits
  // counts requested days per user (6,000 per rolling hour), not requests.
  terra: {
    name: "terra",
    displayName: "Terra",
    authorization: "widget",
    oauth: null,
    webhook: {
      payload: "data",
      signature: "hmac-sha256",
      handshake: "none",
      subscriptionScope: "app",
      subscriptionsExpire: false,
    },
    sync: { backfillDays: null, maxWindowDays: 28, rateLimits: [] },
    regions: { default: "https://api.tryterra.co" },
    docs: "https://docs.tryterra.co/",
  },
  // Pulse's own fake provider (tools/sandbox-provider, started by `npm run dev`; docs/providers.md
  // "The sandbox provider"): everything a careful provider does, so the whole flow runs offline.
  // Its origin comes from configuration; `withOrigin` rebases these development defaults.
  sandbox: {
    name: "sandbox",
    displayName: "Pulse sandbox",
    authorization: "oauth2",
    oauth: {
      authorizeUrl: "http://localhost:8789/oauth/authorize",
      tokenUrl: "http://localhost:8789/oauth/token",
      scopes: ["heart_rate", "sleep", "workouts"],
      scopeSeparator: " ",
      pkce: true,
      clientAuthentication: "basic",
      refreshTokens: true,
      revocation: { style: "rfc7009", url: "http://localhost:8789/oauth/revoke" },
    },
    webhook: {
      payload: "notify-only",
      signature: "hmac-sha256",
      handshake: "none",
      subscriptionScope: "app",
      subscriptionsExpire: false,
    },
    sync: { backfillDays: 90, maxWindowDays: 30, rateLimits: [{ requests: 600, perSeconds: MINUTE, per: "app" }] },
    docs: "docs/providers.md",
  },
};

/**
 * Providers Pulse cannot offer, and why, so the API can say so rather than answer "unknown".
 * Garmin Connect Developer Program: not admitting new applicants (DESIGN §7; Garmin's developer
 * site lists the Health API as closed to new partners), so there is no driver for now.
 */
export const UNAVAILABLE_PROVIDERS: Readonly<Record<string, string>> = {
  garmin: "Garmin's developer programme is not admitting new applications; Garmin cannot be connected for now.",
};

export function providerFacts(name: ProviderName): ProviderFacts {
  return PROVIDERS[name];
}

/**
 * The OAuth endpoints moved to another origin: a provider's regional host (Dexcom EU/JP/sandbox)
 * or the configured sandbox server. Paths and every other fact stay.
 */
export function withOrigin(oauth: OAuthFacts, origin: string): OAuthFacts {
  const rebase = (url: string) => {
    const moved = new URL(url);
    const target = new URL(origin);
    moved.protocol = target.protocol;
    moved.host = target.host;
    return moved.toString();
  };
  return {
    ...oauth,
    authorizeUrl: rebase(oauth.authorizeUrl),
    tokenUrl: rebase(oauth.tokenUrl),
    revocation: { ...oauth.revocation, url: oauth.revocation.url === null ? null : rebase(oauth.revocation.url) },
  };
}
