/**
 * What the driver tests share: a stand-in for the provider's HTTP API (the one thing outside the
 * machine) that records every request, a loop that walks a range the way the sync job does
 * (persisting the cursor as JSON after each stored page), and the HTTP error cases every driver
 * maps the same way.
 */
import { expect, it, vi } from "vitest";
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

/** Three months, as a first backfill asks. */
export const BACKFILL: TimeRange = { since: new Date("2026-01-01T00:00:00Z"), until: new Date("2026-04-01T00:00:00Z") };

/**
 * Walks `range` page by page as the sync job does. With `crashAt`, the page of that index is
 * fetched but "lost" (the worker died before storing it) and the walk resumes from the cursor
 * persisted after the page before, through JSON as the checkpoint column would hold it.
 */
export async function walk<Raw>(
  driver: ProviderDriver<Raw>,
  range: TimeRange,
  options: { crashAt?: number; context?: DriverContext } = {},
): Promise<{ records: Raw[]; cursors: (SyncCursor | null)[] }> {
  const context = options.context ?? CONTEXT;
  const records: Raw[] = [];
  const cursors: (SyncCursor | null)[] = [];
  let checkpoint: string | null = null;
  let crashed = false;
  for (let page = 0; page < 500; page++) {
    const cursor = checkpoint === null ? null : (JSON.parse(checkpoint) as SyncCursor);
    const result: FetchPage<Raw> = await driver.fetchRange(context, TOKEN, range, cursor);
    if (!crashed && page === options.crashAt) {
      crashed = true;
      continue;
    }
    records.push(...result.records);
    cursors.push(result.next);
    if (result.next === null) return { records, cursors };
    checkpoint = JSON.stringify(result.next);
  }
  throw new Error("the walk did not end");
}

/** The 401/429/5xx/network/not-JSON cases, for a driver call that makes one request. */
export function itMapsHttpErrors(call: () => Promise<unknown>) {
  const failure = async (answer: Answer) => {
    fakeProvider(answer);
    const error = await call().then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(String((error as Error | null)?.message)).not.toContain(TOKEN);
    return error;
  };

  it("401: the token is dead (UNAUTHENTICATED)", async () => {
    expect(await failure(() => json({ detail: "invalid token" }, 401))).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("429: RATE_LIMITED after Retry-After or the reset header, else a minute", async () => {
    const limited = (headers: Record<string, string>) => () => json({ detail: "slow down" }, 429, headers);
    expect(await failure(limited({ "Retry-After": "120" }))).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 120 });
    expect(await failure(limited({ "X-RateLimit-Reset": "17" }))).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 17 });
    expect(await failure(limited({}))).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 60 });
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

export const DAY_MS = 86_400_000;
