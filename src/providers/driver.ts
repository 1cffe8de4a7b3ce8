/**
 * The one interface every provider driver (src/providers/<name>/) implements (DESIGN §7).
 *
 * A driver is the provider-specific edge: it speaks the provider's OAuth dialect and data API and
 * turns the provider's payloads into Pulse's normalized inputs. Everything around it — OAuth state
 * (the OAuthState Durable Object), token storage (./tokens.ts, ./connections.ts), the refresh
 * cron, sync scheduling, webhook dedup — is shared and never re-implemented per provider.
 *
 * Drivers hold no state and read no globals: credentials and the configured origin arrive in the
 * `DriverContext`, tokens arrive per call, so a driver is testable with a `fetch` interceptor.
 * Failures are `DomainError`s; OAuth failures are `ProviderOAuthError` (./oauth.ts) so the refresh
 * job can tell `invalid_grant` (the user must reconnect) from a transient failure (retry).
 */
import type { ObservationInput } from "../../durable-objects/health-store/schema";
import type { SleepSessionInput, WorkoutInput } from "../../durable-objects/health-store/session-schema";
import type { ProviderFacts, ProviderName } from "./registry";

/** What a driver gets from configuration: the app's client credentials at this provider. */
export interface DriverContext {
  clientId: string;
  clientSecret: string;
  /** Pulse's callback, `https://<origin>/oauth/<provider>/callback` (DESIGN §3). */
  redirectUri: string;
  /** A regional API host or the sandbox server's origin, when not the registry default. */
  origin?: string;
  /**
   * The token the provider echoes when it verifies the app's webhook subscription: Oura's
   * `verification_token`, Strava's push-subscription `verify_token`.
   */
  webhookVerificationToken?: string;
  /** Terra's developer id, sent as `dev-id` beside the API key (`clientSecret`). */
  devId?: string;
}

/** Tokens as a code exchange or refresh returns them; plaintext only in memory, sealed at rest. */
export interface ProviderTokens {
  accessToken: string;
  /** Null when the provider issues none (long-lived tokens) or kept the old one. */
  refreshToken: string | null;
  /** Null when the provider did not say (`expires_in` absent). */
  accessTokenExpiresAt: Date | null;
  /** The scopes actually granted, when the provider reports them (users may narrow consent). */
  scopes: string[] | null;
  /**
   * The provider's id for the user when the token answer names it: Withings' `userid` (it has no
   * profile endpoint, so the connect flow stores this instead of `profile`'s) and Polar
   * AccessLink's `x_user_id` (the only place its API tells a client who the user is).
   */
  providerUserId?: string;
}

/** The start of a connection: where to send the browser, and what the callback must replay. */
export interface AuthorizationStart {
  url: URL;
  /**
   * RFC 7636 code verifier, kept server-side with the state (OAuthState). Always present so every
   * flow stores one shape; sent to the provider only when it takes PKCE.
   */
  codeVerifier: string;
}

export interface ProviderProfile {
  /** The provider's stable id for this user: what webhooks name and the uniqueness key uses. */
  providerUserId: string;
  /** IANA zone when the provider knows it: local-day attribution of its daily summaries. */
  timeZone: string | null;
}

/** A half-open instant range `[since, until)`. */
export interface TimeRange {
  since: Date;
  until: Date;
}

/**
 * One page of raw provider records. `next` resumes the same range (a provider page token, or the
 * next window when the provider caps ranges); null when the range is exhausted. It is stored as
 * the connection's sync checkpoint, so it must be JSON and carry no secret.
 */
export interface FetchPage<Raw> {
  records: Raw[];
  next: SyncCursor | null;
}

export interface SyncCursor {
  /** Start of the window still to fetch (ISO 8601). */
  windowStart: string;
  /** The provider's page token within that window, if any. */
  pageToken: string | null;
  /** Which of the provider's data types is being walked, for providers with one endpoint per type. */
  dataType: string | null;
}

/** Pulse inputs for the user's HealthStore (source kind `provider`, source app = provider name). */
export interface MappedProviderData {
  observations: ObservationInput[];
  sleepSessions: SleepSessionInput[];
  workouts: WorkoutInput[];
  /** Records that could not be mapped, each with a reason naming fields, never values. */
  rejected: { sourceRecordId: string | null; reason: string }[];
}

/** What a verified webhook delivery is about: whose data changed, and which part of it. */
export interface WebhookNotice {
  /** Provider's unique id for the delivery (or a digest of the body): the dedup key. */
  eventId: string;
  providerUserId: string | null;
  /** e.g. `sleep.updated`, `deauthorization`. */
  kind: string;
  /** The range the provider says changed, when it says. */
  range: TimeRange | null;
}

export interface WebhookHooks {
  /**
   * Answers the provider's handshake (Oura's verification GET, Strava's `hub.challenge`, Withings'
   * HEAD, Polar's ping) or returns null when the request is a delivery, not a handshake.
   */
  handshake(request: Request, verifyToken: string): Promise<Response | null>;
  /** Verifies authenticity over the raw body, in constant time; false refuses the delivery. */
  verify(request: Request, rawBody: Uint8Array, secret: string, now: Date): Promise<boolean>;
  /** Reads a verified body into the notices Pulse acts on. */
  parse(rawBody: Uint8Array): WebhookNotice[];
}

export interface SubscriptionHooks {
  /** Creates (or confirms) the app-wide or per-user subscription; idempotent. */
  ensure(context: DriverContext, accessToken: string | null): Promise<void>;
  /** Renews subscriptions that expire (Oura); a no-op elsewhere. */
  renew(context: DriverContext): Promise<void>;
  /** Removes a per-user subscription when the connection goes away. */
  remove(context: DriverContext, accessToken: string | null, providerUserId: string): Promise<void>;
}

export interface ProviderDriver<Raw = unknown> {
  readonly name: ProviderName;
  readonly facts: ProviderFacts;

  /**
   * Builds the authorize URL: `state`, the registry's scopes, and PKCE S256 where supported. An
   * aggregator's widget (Terra) asks its API for a session URL first, hence the promise.
   */
  authorizationUrl(context: DriverContext, state: string): AuthorizationStart | Promise<AuthorizationStart>;
  /**
   * Reads the callback's query: the authorization code and the state. Absent: the OAuth 2.0
   * parameters `code` and `state` (RFC 6749 §4.1.2). A widget provider names them its own way
   * (Terra: `reference_id` carries the state and `user_id` stands in for the code).
   */
  readCallback?(query: URLSearchParams): { code: string; state: string } | null;
  exchangeCode(context: DriverContext, code: string, codeVerifier: string): Promise<ProviderTokens>;
  refresh(context: DriverContext, refreshToken: string): Promise<ProviderTokens>;
  /**
   * Revokes at the provider when it can; resolves when the provider has nothing to revoke.
   * `providerUserId` is the connection's: Withings revokes by user id, not by token.
   */
  revoke(
    context: DriverContext,
    tokens: { accessToken: string; refreshToken: string | null; providerUserId?: string },
  ): Promise<void>;
  profile(context: DriverContext, accessToken: string): Promise<ProviderProfile>;

  /**
   * Fetches one page of `range`, resuming at `cursor`. The driver splits the range into windows
   * the provider accepts (`facts.sync.maxWindowDays`) and walks its paging; the caller loops until
   * `next` is null, persisting `next` as the checkpoint after each page it has stored.
   */
  fetchRange(context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null): Promise<FetchPage<Raw>>;

  /** Maps raw records to Pulse inputs; pure, so it is tested on recorded payloads. */
  map(records: Raw[], timeZone: string | null): MappedProviderData;

  /** Present when the provider sends webhooks (`facts.webhook`). */
  readonly webhook?: WebhookHooks;
  /** Present when subscriptions are managed through the provider's API. */
  readonly subscriptions?: SubscriptionHooks;
}
