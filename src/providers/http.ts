/**
 * The one way drivers call a provider's data API: a request with the user's bearer token (or the
 * app's credentials), a JSON answer, and the provider's HTTP failures as Pulse's error vocabulary,
 * so the sync job reacts the same whatever the provider:
 *
 * - 401: `UNAUTHENTICATED` — the access token is dead; the sync job refreshes or marks the
 *   connection `reauth_required`.
 * - 429: `RATE_LIMITED` with `retryAfterSeconds` from `Retry-After` (RFC 9110 §10.2.3) or the
 *   provider's own reset header, else a default.
 * - 5xx, any other non-2xx, a network failure or a body that is not JSON: `PROVIDER_FAILED`.
 *
 * Messages name the provider and the status, never a token, a URL's query or a health value.
 */
import { DomainError } from "../errors/domain-error";
import { type ProviderName, providerFacts } from "./registry";

/** When a provider rate-limits without saying for how long: a minute covers every window here. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;

export interface ProviderRequest {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  headers?: Record<string, string>;
  body?: BodyInit;
}

/** GET with the user's bearer token; the parsed JSON body, or a `DomainError` as above. */
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
 * the parsed JSON body; an empty 2xx body (204, a DELETE) answers null.
 */
export async function providerRequest(url: URL, provider: ProviderName, request: ProviderRequest = {}): Promise<unknown> {
  const name = providerFacts(provider).displayName;
  const response = await providerFetch(url, provider, request);
  if (!response.ok) throw statusError(response, name);
  const text = await response.text().catch(() => null);
  if (text === null) throw new DomainError("PROVIDER_FAILED", `${name}'s answer could not be read.`);
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DomainError("PROVIDER_FAILED", `${name} answered with something other than JSON.`);
  }
}

/** The bare exchange, for callers that read the status themselves (a revocation's 400 is fine). */
export async function providerFetch(url: URL, provider: ProviderName, request: ProviderRequest = {}): Promise<Response> {
  try {
    return await fetch(url, {
      method: request.method ?? "GET",
      headers: { Accept: "application/json", ...request.headers },
      body: request.body,
    });
  } catch (error) {
    throw new DomainError("PROVIDER_FAILED", `${providerFacts(provider).displayName} could not be reached.`, { cause: error });
  }
}

/** A provider's refusal as the error the sync job acts on (see the header). */
export function statusError(response: Response, displayName: string): DomainError {
  // Drain the body so the connection can be reused; its content is never echoed.
  void response.body?.cancel().catch(() => undefined);
  if (response.status === 401) {
    return new DomainError("UNAUTHENTICATED", `${displayName} no longer accepts this connection's access token.`);
  }
  if (response.status === 429) {
    return new DomainError("RATE_LIMITED", `${displayName} is rate-limiting Pulse; try again later.`, {
      retryAfterSeconds: retryAfterSeconds(response, DEFAULT_RETRY_AFTER_SECONDS),
    });
  }
  return new DomainError("PROVIDER_FAILED", `${displayName} answered ${response.status}.`);
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
