/**
 * The one way drivers call a provider's API: a request with the user's bearer token (or the app's
 * credentials), a JSON answer, and the provider's HTTP failures as Pulse's error vocabulary, so the
 * sync job reacts the same whatever the provider:
 *
 * - 401: `UNAUTHENTICATED` — the access token is dead; the sync job refreshes or marks the
 *   connection `reauth_required`.
 * - 429: `RATE_LIMITED` with `retryAfterSeconds` from `Retry-After` (RFC 9110 §10.2.3) or the
 *   provider's own reset header, else the provider's fallback (Strava resets its limits at the
 *   next quarter hour and sends neither: https://developers.strava.com/docs/rate-limits/), else a
 *   minute.
 * - 5xx, any other non-2xx, a network failure or a body that is not JSON: `PROVIDER_FAILED`, with
 *   the provider's status as the `providerStatus` extension when there was one.
 *
 * Messages name the provider and the status, never a token, a URL (it can carry a user id) or a
 * health value; the body of a refusal is never read into an error, it may echo the request.
 */
import { DomainError } from "../errors/domain-error";
import { type ProviderName, providerFacts } from "./registry";

/** When a provider rate-limits without saying for how long: a minute refills per-minute budgets. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;
const QUARTER_HOUR_MS = 15 * 60 * 1000;

export interface ProviderRequest {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  headers?: Record<string, string>;
  /** A string body is sent as JSON unless `headers` say otherwise; a form as a form. */
  body?: string | URLSearchParams;
  /**
   * Refusals the caller expects and treats as done (a revocation's 401: nothing left to revoke;
   * Polar's 409: already registered). They answer null instead of throwing.
   */
  acceptStatuses?: readonly number[];
}

/** GET with the user's bearer token; the parsed JSON body (null when empty), or an error as above. */
export async function providerGet(
  url: URL,
  accessToken: string,
  provider: ProviderName,
  init?: { headers?: Record<string, string> },
): Promise<unknown> {
  return providerRequest(url, provider, { headers: { ...init?.headers, Authorization: `Bearer ${accessToken}` } });
}

/**
 * Any request to a provider's API (a form POST, an app-authenticated subscription call). Answers
 * the parsed JSON body; an empty body (204, a DELETE) or an accepted refusal answers null.
 */
export async function providerRequest(url: URL, provider: ProviderName, request: ProviderRequest = {}): Promise<unknown> {
  const response = await providerFetch(url, provider, request);
  if (!response.ok && request.acceptStatuses?.includes(response.status)) {
    await drain(response);
    return null;
  }
  return readAnswer(response, provider);
}

/** The bare exchange, for a caller that gives some statuses its own meaning (Terra's 401 and 404). */
export async function providerFetch(url: URL, provider: ProviderName, request: ProviderRequest = {}): Promise<Response> {
  const headers = new Headers({ Accept: "application/json", ...request.headers });
  if (typeof request.body === "string" && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  try {
    return await fetch(url, {
      method: request.method ?? "GET",
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
  } catch (error) {
    throw failed(provider, "could not be reached", error);
  }
}

/** A provider's answer as JSON (null when empty), or its refusal as the error the sync job acts on. */
export async function readAnswer(response: Response, provider: ProviderName): Promise<unknown> {
  const name = providerFacts(provider).displayName;
  if (!response.ok) {
    await drain(response);
    if (response.status === 401) {
      throw new DomainError("UNAUTHENTICATED", `${name} no longer accepts this connection's access token.`);
    }
    if (response.status === 429) {
      throw new DomainError("RATE_LIMITED", `${name} is rate-limiting Pulse; try again later.`, {
        retryAfterSeconds: retryAfterSeconds(response, fallbackRetryAfter(provider)),
      });
    }
    throw failed(provider, `answered ${response.status}`, undefined, response.status);
  }
  const text = await response.text().catch(() => null);
  if (text === null) throw failed(provider, "sent an answer that could not be read");
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw failed(provider, "answered with something other than JSON", error);
  }
}

/**
 * Seconds to wait after a 429: `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3),
 * else the de-facto `X-RateLimit-Reset` / `RateLimit-Reset` as seconds until reset (WHOOP and
 * others send the IETF draft's `X-RateLimit-Reset`), else `fallback`. At least one second.
 */
export function retryAfterSeconds(response: Response, fallback: number): number {
  const retryAfter = response.headers.get("Retry-After")?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Math.max(1, Number(retryAfter));
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(1, Math.ceil((at - Date.now()) / 1000));
  }
  const reset = (response.headers.get("RateLimit-Reset") ?? response.headers.get("X-RateLimit-Reset"))?.trim();
  if (reset && /^\d+$/.test(reset)) {
    const seconds = Number(reset);
    // A value this large is an epoch time, not a delta (some providers send the reset instant).
    if (seconds > 1_000_000_000) return Math.max(1, seconds - Math.floor(Date.now() / 1000));
    return Math.max(1, seconds);
  }
  return Math.max(1, fallback);
}

function fallbackRetryAfter(provider: ProviderName): number {
  if (provider !== "strava") return DEFAULT_RETRY_AFTER_SECONDS;
  return Math.ceil((QUARTER_HOUR_MS - (Date.now() % QUARTER_HOUR_MS)) / 1000);
}

async function drain(response: Response): Promise<void> {
  // Frees the connection for reuse; the content is never echoed.
  await response.body?.cancel().catch(() => undefined);
}

function failed(provider: ProviderName, what: string, cause?: unknown, status?: number): DomainError {
  return new DomainError("PROVIDER_FAILED", `${providerFacts(provider).displayName} ${what}.`, {
    cause,
    ...(status === undefined ? {} : { extensions: { providerStatus: status } }),
  });
}

// Reading answers: a provider's JSON is data from outside, checked before it is trusted.

/** A provider answer that must be a JSON object; PROVIDER_FAILED naming `what` otherwise. */
export function expectObject(value: unknown, provider: ProviderName, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw failed(provider, `sent ${what} that is not an object`);
  }
  return value as Record<string, unknown>;
}

/** The list in `field` of an answer object (`{data: [...]}`, `{records: [...]}`); PROVIDER_FAILED otherwise. */
export function expectList(value: unknown, field: string, provider: ProviderName): unknown[] {
  const list = expectObject(value, provider, "an answer")[field];
  if (!Array.isArray(list)) throw failed(provider, `answered without a ${field} list`);
  return list;
}

/** A provider id field (a string, or a number as Strava, Polar and WHOOP write them) as a string. */
export function expectId(record: Record<string, unknown>, field: string, provider: ProviderName): string {
  const value = record[field];
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  throw failed(provider, `sent no ${field}`);
}

/** A provider's next-page token; absent or empty means the last page. */
export function pageTokenOf(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}
