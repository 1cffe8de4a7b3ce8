import { expect, vi } from "vitest";
import { DomainError } from "../../src/errors/domain-error";
import type { DriverContext, ProviderDriver, SyncCursor, TimeRange } from "../../src/providers/driver";

/** One request a driver made to the (fake) provider. */
export interface ProviderCall {
  method: string;
  url: URL;
  headers: Headers;
  body: string | null;
}

export type ProviderHandler = (call: ProviderCall) => Response | Promise<Response>;

/**
 * Stands in for a provider's HTTP API: every `fetch` the driver makes is recorded and answered by
 * `handler` (payloads shaped as the provider documents them). Restore with `vi.unstubAllGlobals()`.
 */
export function stubProviderApi(handler: ProviderHandler): ProviderCall[] {
  const calls: ProviderCall[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const call: ProviderCall = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: request.body === null ? null : await request.text(),
    };
    calls.push(call);
    return handler(call);
  });
  return calls;
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

export const CONTEXT: DriverContext = {
  clientId: "pulse-client",
  clientSecret: "pulse-client-secret",
  redirectUri: "https://api.pulse.example/oauth/PROVIDER/callback",
};

export const DAY_MS = 86_400_000;

/** Three months back from a fixed instant: the backfill every driver test walks. */
export const BACKFILL: TimeRange = { since: new Date(Date.UTC(2026, 0, 1)), until: new Date(Date.UTC(2026, 3, 1)) };

export interface Walk {
  records: { type: string; payload: unknown; fetchedAt: number }[];
  cursors: (SyncCursor | null)[];
}

/**
 * Walks `range` page by page as the sync job does, starting at `cursor`, each cursor passed
 * through JSON as the stored checkpoint is; stops after `maxPages` (a simulated crash) or at the end.
 */
export async function walk(
  driver: ProviderDriver,
  context: DriverContext,
  token: string,
  range: TimeRange,
  options: { cursor?: SyncCursor | null; maxPages?: number } = {},
): Promise<Walk> {
  const result: Walk = { records: [], cursors: [] };
  let cursor = options.cursor ?? null;
  for (let pages = 0; pages < (options.maxPages ?? 1000); pages++) {
    const fetched = await driver.fetchRange(context, token, range, cursor);
    result.records.push(...(fetched.records as Walk["records"]));
    result.cursors.push(fetched.next);
    if (fetched.next === null) return result;
    cursor = JSON.parse(JSON.stringify(fetched.next)) as SyncCursor;
  }
  return result;
}

/** Runs `attempt` and returns the DomainError it throws (failing when it resolves or throws another). */
export async function domainError(attempt: () => Promise<unknown>): Promise<DomainError> {
  const error = await attempt().then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

/**
 * The shared error contract of a data call: 401 → UNAUTHENTICATED, 429 → RATE_LIMITED with the
 * provider's Retry-After, 5xx, network failure and non-JSON → PROVIDER_FAILED, and no message
 * ever carries the token.
 */
export async function expectErrorMapping(call: () => Promise<unknown>, token: string, unauthorized = 401): Promise<void> {
  const cases: { answer: () => Response; code: string; retryAfter?: number }[] = [
    { answer: () => json({ message: "Authorization Error" }, unauthorized), code: "UNAUTHENTICATED" },
    {
      answer: () => json({ message: "Rate Limit Exceeded" }, 429, { "Retry-After": "120" }),
      code: "RATE_LIMITED",
      retryAfter: 120,
    },
    { answer: () => json({ message: "Internal Server Error" }, 500), code: "PROVIDER_FAILED" },
    { answer: () => new Response("<html>502 Bad Gateway</html>", { status: 200 }), code: "PROVIDER_FAILED" },
  ];
  for (const { answer, code, retryAfter } of cases) {
    stubProviderApi(() => answer());
    const error = await domainError(call);
    expect(error.code).toBe(code);
    if (retryAfter !== undefined) expect(error.retryAfterSeconds).toBe(retryAfter);
    expect(error.message).not.toContain(token);
  }
  vi.stubGlobal("fetch", async () => {
    throw new TypeError("network down");
  });
  expect((await domainError(call)).code).toBe("PROVIDER_FAILED");
}
