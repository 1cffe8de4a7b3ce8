/**
 * The one HTTP helper every driver's data calls go through (src/providers/<name>/driver.ts), so a
 * provider's answer means the same thing whichever driver asked:
 *
 * - 401: the access token is dead → `UNAUTHENTICATED`; the sync job refreshes it or marks the
 *   connection `reauth_required`.
 * - 429: → `RATE_LIMITED` with `retryAfterSeconds` from `Retry-After` (RFC 9110 §10.2.3: seconds or
 *   an HTTP date), else a per-provider fallback (Strava resets its limits at the next quarter hour
 *   and sends no `Retry-After`: https://developers.strava.com/docs/rate-limits/).
 * - any other refusal, 5xx, a network failure or a body that is not JSON → `PROVIDER_FAILED`.
 *
 * Messages name the provider and the status only: never a URL (it can carry a user id), a token
 * or a health value.
 */
import { DomainError } from "../errors/domain-error";
import { type ProviderName, providerFacts } from "./registry";

/** Without a `Retry-After`, wait a minute: long enough for per-minute budgets to refill. */
const DEFAULT_RETRY_AFTER_SECONDS = 60;
const QUARTER_HOUR_MS = 15 * 60 * 1000;

export interface ProviderRequestInit {
  method?: "GET" | "POST" | "DELETE" | "PUT";
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  /** Statuses the caller handles itself besides 2xx (Polar's 409 "already registered"). */
  acceptStatuses?: readonly number[];
}

export interface ProviderResponse {
  status: number;
  /** The parsed JSON body; null when the provider sent none (204, an empty 200). */
  body: unknown;
}

/** A bearer GET whose answer must be JSON; the errors above. */
export async function providerGet(
  url: URL,
  accessToken: string,
  provider: ProviderName,
  init?: { headers?: Record<string, string> },
): Promise<unknown> {
  const { body } = await providerRequest(url, provider, {
    headers: { ...init?.headers, Authorization: `Bearer ${accessToken}` },
  });
  if (body === null) throw failed(provider, "sent an empty answer");
  return body;
}

/** Any request to a provider's API with the same error mapping; the caller sets authentication. */
export async function providerRequest(
  url: URL,
  provider: ProviderName,
  init: ProviderRequestInit = {},
): Promise<ProviderResponse> {
  const headers = new Headers({ Accept: "application/json", ...init.headers });
  if (typeof init.body === "string" && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? "GET",
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
    });
  } catch (error) {
    throw failed(provider, "could not be reached", error);
  }
  const accepted = response.ok || (init.acceptStatuses ?? []).includes(response.status);
  if (!accepted) {
    // The body of a refusal is never read into an error: it may echo the request.
    await response.body?.cancel();
    if (response.status === 401) {
      throw new DomainError("UNAUTHENTICATED", `${providerFacts(provider).displayName} refused the access token.`);
    }
    if (response.status === 429) {
      throw new DomainError("RATE_LIMITED", `${providerFacts(provider).displayName} asked Pulse to slow down.`, {
        retryAfterSeconds: retryAfterSeconds(response, fallbackRetryAfter(provider)),
      });
    }
    throw failed(provider, `answered ${response.status}`, undefined, response.status);
  }
  const text = await response.text().catch(() => null);
  if (text === null) throw failed(provider, "sent an unreadable answer");
  if (text.trim() === "") return { status: response.status, body: null };
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch (error) {
    throw failed(provider, "sent an answer that is not JSON", error);
  }
}

/** `Retry-After` in whole seconds (delta-seconds or an HTTP date), else `fallback`. */
export function retryAfterSeconds(response: Response, fallback: number): number {
  const header = response.headers.get("Retry-After")?.trim();
  if (header) {
    if (/^\d+$/.test(header)) return Number(header);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - Date.now()) / 1000));
  }
  return fallback;
}

function fallbackRetryAfter(provider: ProviderName): number {
  if (provider !== "strava") return DEFAULT_RETRY_AFTER_SECONDS;
  const now = Date.now();
  return Math.max(1, Math.ceil((QUARTER_HOUR_MS - (now % QUARTER_HOUR_MS)) / 1000));
}

function failed(provider: ProviderName, what: string, cause?: unknown, status?: number): DomainError {
  return new DomainError("PROVIDER_FAILED", `${providerFacts(provider).displayName} ${what}.`, {
    cause,
    ...(status === undefined ? {} : { extensions: { providerStatus: status } }),
  });
}

/** A provider answer that must be a JSON object; PROVIDER_FAILED naming `what` otherwise. */
export function expectObject(value: unknown, provider: ProviderName, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw failed(provider, `sent ${what} that is not an object`);
  return value as Record<string, unknown>;
}

/** A provider id field (a string, or a number as Strava and Polar write them) as a string. */
export function expectId(record: Record<string, unknown>, field: string, provider: ProviderName): string {
  const value = record[field];
  if (typeof value === "string" && value.length > 0) return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw failed(provider, `sent no ${field}`);
}
