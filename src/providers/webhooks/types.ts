/**
 * The vocabulary of incoming provider webhooks (DESIGN §7). Verification is a pure function of the
 * raw request, the provider's secrets and the clock: it answers a handshake to send back, a verified
 * delivery, or a refusal. Nothing here builds an HTTP response or touches storage; the route
 * (./routes.ts, ./receive.ts) turns these values into responses and stores and enqueues deliveries
 * (./events.ts).
 */

export const WEBHOOK_PROVIDERS = ["oura", "whoop", "terra", "strava", "withings", "polar", "google-health", "sandbox"] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export function isWebhookProvider(name: string): name is WebhookProvider {
  return (WEBHOOK_PROVIDERS as readonly string[]).includes(name);
}

/** The request exactly as received: signatures are computed over these bytes, never a re-serialisation. */
export interface RawWebhookRequest {
  method: string;
  /** Absolute URL including the query string (handshakes travel in the query). */
  url: string;
  headers: Headers;
  body: Uint8Array;
}

/** Secrets and settings per provider; a provider missing here cannot be verified and is refused. */
export interface WebhookSecrets {
  oura?: { clientSecret: string; verificationToken: string };
  whoop?: { clientSecret: string };
  terra?: { signingSecret: string };
  /** `subscriptionId`, when known, refuses events addressed to another Strava subscription. */
  strava?: { verifyToken: string; subscriptionId?: number };
  /** Withings signs nothing; there is no secret to hold. */
  withings?: Record<string, never>;
  polar?: { signatureSecretKey: string };
  /**
   * `authorization` is the full `Authorization` header value registered with the subscriber
   * (e.g. `Bearer …`). `signingKeys` are Google's ECDSA P-256 public keys as JWKs; when given, every
   * notification must carry a valid signature from one of them.
   */
  googleHealth?: { authorization: string; signingKeys?: JsonWebKey[] };
  /** Pulse's local sandbox provider (tools/sandbox-provider): its webhook signing secret. */
  sandbox?: { signingSecret: string };
}

/** What to send back to a subscription handshake, exactly as the provider requires it. */
export interface HandshakeResponse {
  status: number;
  /** `null`: no body. */
  body: string | null;
  contentType: string | null;
}

/**
 * One "something changed" hint. Providers send notify-only payloads (or, unsigned, payloads that must
 * not be trusted): the consumer re-fetches with the user's token, never ingests values from here.
 */
export interface ChangeHint {
  /** The provider's id for the user, as a string whatever the provider's JSON type. */
  providerUserId: string;
  /** The provider's own name for the kind of data (e.g. `sleep`, `activity`, Withings `appli` code). */
  dataType: string;
  operation: "upsert" | "delete" | "deauthorize" | "other";
  /** The provider's id of the changed object, when it names one. */
  objectId?: string;
  /** ISO 8601 instants bounding the change, when the provider gives them. */
  start?: string;
  end?: string;
  /** A calendar day (`YYYY-MM-DD`) the change belongs to, when the provider gives days, not instants. */
  date?: string;
  /** The last calendar day of a range of days starting at `date`. */
  endDate?: string;
}

export interface VerifiedDelivery {
  kind: "delivery";
  provider: WebhookProvider;
  /**
   * `signed`: authenticity proven by a signature (or Google's registered secret plus signature).
   * `shared-secret`: only a registered secret header proves it came from the provider.
   * `unsigned-hint`: anyone could have sent it; use only as a prompt to re-fetch with the user's token.
   */
  authenticity: "signed" | "shared-secret" | "unsigned-hint";
  /** Equal for re-deliveries of the same event, different for different events: the ledger's unique key. */
  dedupKey: string;
  /** The provider's own event name (`sleep.updated`, `EXERCISE`, `aspect_type:object_type`, …). */
  eventType: string;
  hints: ChangeHint[];
  /** When the provider signed the delivery, from its signed timestamp (not every scheme has one). */
  signedAt?: string;
}

export interface Handshake {
  kind: "handshake";
  provider: WebhookProvider;
  response: HandshakeResponse;
}

export type RefusalReason = "unauthenticated" | "stale" | "malformed" | "too_large" | "method_not_allowed";

export interface Refusal {
  kind: "refused";
  provider: WebhookProvider;
  reason: RefusalReason;
  /** A sentence safe to show the sender: never a secret, an expected signature or a body excerpt. */
  detail: string;
}

export type WebhookOutcome = Handshake | VerifiedDelivery | Refusal;

export function refuse(provider: WebhookProvider, reason: RefusalReason, detail: string): Refusal {
  return { kind: "refused", provider, reason, detail };
}
