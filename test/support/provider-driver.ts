/**
 * What the driver tests share: a stand-in for the provider's HTTP API (the one thing outside the
 * machine) that records every request, a loop that walks a range the way the sync job does
 * (persisting the cursor as JSON after each stored page), and the HTTP error cases every driver
 * maps the same way.
 */
import { expect, it, vi } from "vitest";
import { DomainError } from "../../src/errors/domain-error";
import type { DriverContext, FetchPage, ProviderDriver, SyncCursor, TimeRange } from "../../src/providers/driver";

export interface SeenRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The body as text (JSON or a form); empty when there was none. */
  body: string;
}

export type Answer = (request: SeenRequest) => Response | Promise<Response>;

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

/** Replaces `fetch` with `answer`; returns the requests as the provider saw them. */
export function fakeProvider(answer: Answer): SeenRequest[] {
  const seen: SeenRequest[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const seenRequest = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: request.body ? await request.text() : "",
    };
    seen.push(seenRequest);
    return answer(seenRequest);
  });
  return seen;
}

export const form = (request: SeenRequest) => new URLSearchParams(request.body);

export const CONTEXT: DriverContext = {
  clientId: "pulse-client",
  clientSecret: "pulse-secret",
  redirectUri: "https://api.pulse.test/oauth/provider/callback",
};

export const TOKEN = "user-access-token-123";

export const DAY_MS = 86_400_000;

/** Three months, as a first backfill asks. */
export const BACKFILL: TimeRange = { since: new Date("2026-01-01T00:00:00Z"), until: new Date("2026-04-01T00:00:00Z") };

export interface WalkOptions {
  context?: DriverContext;
  token?: string;
  /** Where to start: a checkpoint a previous walk left. */
  cursor?: SyncCursor | null;
  /** The page of this index is fetched but "lost" (the worker died before storing it). */
  crashAt?: number;
  /** Stop after this many pages, as a sync cut short does. */
  maxPages?: number;
}

/**
 * Walks `range` page by page as the sync job does: each cursor goes through JSON as the checkpoint
 * column holds it. With `crashAt`, the walk resumes from the cursor persisted after the page
 * before the lost one.
 */
export async function walk<Raw>(
  driver: ProviderDriver<Raw>,
  range: TimeRange,
  options: WalkOptions = {},
): Promise<{ records: Raw[]; cursors: (SyncCursor | null)[] }> {
  const context = options.context ?? CONTEXT;
  const records: Raw[] = [];
  const cursors: (SyncCursor | null)[] = [];
  let checkpoint: string | null = options.cursor ? JSON.stringify(options.cursor) : null;
  let crashed = false;
  for (let page = 0; page < (options.maxPages ?? 1000); page++) {
    const cursor = checkpoint === null ? null : (JSON.parse(checkpoint) as SyncCursor);
    const result: FetchPage<Raw> = await driver.fetchRange(context, options.token ?? TOKEN, range, cursor);
    if (!crashed && page === options.crashAt) {
      crashed = true;
      continue;
    }
    records.push(...result.records);
    cursors.push(result.next);
    if (result.next === null) return { records, cursors };
    checkpoint = JSON.stringify(result.next);
  }
  if (options.maxPages !== undefined) return { records, cursors };
  throw new Error("the walk did not end");
}

/** Runs `attempt` and returns the DomainError it throws (failing when it resolves or throws another). */
export async function domainError(attempt: () => Promise<unknown>): Promise<DomainError> {
  const error = await Promise.resolve()
    .then(attempt)
    .then(
      () => null,
      (thrown: unknown) => thrown,
    );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

export interface HttpErrorOptions {
  /** The token the call uses: no message may carry it. */
  token?: string;
  /** The status by which the provider says the user's access is gone (Terra: 404). */
  unauthorized?: number;
  /** Seconds a 429 without any reset header waits; null when the provider's fallback varies (Strava). */
  fallbackSeconds?: number | null;
}

/**
 * The shared error contract of a driver call that makes one request, as `it` cases: the
 * unauthorized status → UNAUTHENTICATED, 429 → RATE_LIMITED after Retry-After or the reset header,
 * 5xx, a network failure and non-JSON → PROVIDER_FAILED, and no message ever carries the token.
 */
export function itMapsHttpErrors(call: () => Promise<unknown>, options: HttpErrorOptions = {}) {
  const { token = TOKEN, unauthorized = 401, fallbackSeconds = 60 } = options;
  const failure = async (answer: Answer) => {
    fakeProvider(answer);
    const error = await domainError(call);
    expect(error.message).not.toContain(token);
    return error;
  };

  it(`${unauthorized}: the user's access is gone (UNAUTHENTICATED)`, async () => {
    expect(await failure(() => json({ detail: "invalid token" }, unauthorized))).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("429: RATE_LIMITED after Retry-After or the reset header, else the provider's fallback", async () => {
    const limited = (headers: Record<string, string>) => () => json({ detail: "slow down" }, 429, headers);
    expect(await failure(limited({ "Retry-After": "120" }))).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 120 });
    expect(await failure(limited({ "X-RateLimit-Reset": "17" }))).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 17 });
    const fallback = await failure(limited({}));
    expect(fallback.code).toBe("RATE_LIMITED");
    if (fallbackSeconds !== null) expect(fallback.retryAfterSeconds).toBe(fallbackSeconds);
  });

  it("5xx, a network failure or a body that is not JSON: PROVIDER_FAILED", async () => {
    expect(await failure(() => json({ detail: "oops" }, 503))).toMatchObject({ code: "PROVIDER_FAILED" });
    expect(await failure(() => new Response("<html>gateway</html>", { status: 200 }))).toMatchObject({ code: "PROVIDER_FAILED" });
    const reset = () => {
      throw new TypeError("connection reset");
    };
    expect(await failure(reset)).toMatchObject({ code: "PROVIDER_FAILED" });
  });
}

/**
 * What records say, without when they were fetched: a resumed walk fetches the same items at other
 * instants, so it is compared on these.
 */
export const contents = (records: readonly { type: string; payload: unknown }[]) =>
  records.map(({ type, payload }) => ({ type, payload }));
