import { afterEach, describe, expect, it, vi } from "vitest";
import { stravaDriver } from "../../src/providers/strava/driver";
import {
  BACKFILL,
  CONTEXT,
  DAY_MS,
  fakeProvider,
  itMapsHttpErrors,
  json,
  type SeenRequest,
  walk,
} from "../support/provider-driver";
import { providerFixture } from "../support/provider-mapping";

const TOKEN = "strava-access-token-abc";
const context = { ...CONTEXT, redirectUri: "https://api.pulse.example/oauth/strava/callback" };

/** 450 activities over the three months, shaped as the fixture's SummaryActivity. */
function activities(): Record<string, unknown>[] {
  const [template] = providerFixture("strava", "activities.json") as Record<string, unknown>[];
  const step = (BACKFILL.until.getTime() - BACKFILL.since.getTime()) / 450;
  return Array.from({ length: 450 }, (_, index) => {
    const start = new Date(BACKFILL.since.getTime() + Math.floor(index * step));
    return {
      ...template,
      id: 16_000_000_000 + index,
      start_date: start.toISOString().replace(/\.\d{3}Z$/, "Z"),
      start_date_local: new Date(start.getTime() - 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  });
}

/** `GET /athlete/activities` as Strava documents it: `after`/`before` epoch seconds, `page`, `per_page`. */
function activitiesApi(all: Record<string, unknown>[]) {
  return (call: SeenRequest) => {
    expect(call.url.origin + call.url.pathname).toBe("https://www.strava.com/api/v3/athlete/activities");
    expect(call.headers.get("Authorization")).toBe(`Bearer ${TOKEN}`);
    const after = Number(call.url.searchParams.get("after")) * 1000;
    const before = Number(call.url.searchParams.get("before")) * 1000;
    const pageNumber = Number(call.url.searchParams.get("page"));
    const perPage = Number(call.url.searchParams.get("per_page"));
    const inRange = all.filter((item) => {
      const at = Date.parse(String(item.start_date));
      return at > after && at < before;
    });
    return json(inRange.slice((pageNumber - 1) * perPage, pageNumber * perPage));
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Strava driver", () => {
  it("authorize URL: registry scopes comma-separated, state, redirect URI, no PKCE (Strava has none)", async () => {
    const { url } = await stravaDriver.authorizationUrl(context, "state-0123456789abcdefghij");
    expect(url.origin + url.pathname).toBe("https://www.strava.com/oauth/authorize");
    expect(url.searchParams.get("scope")).toBe("read,activity:read_all,profile:read_all");
    expect(url.searchParams.get("state")).toBe("state-0123456789abcdefghij");
    expect(url.searchParams.get("redirect_uri")).toBe(context.redirectUri);
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.has("code_challenge")).toBe(false);
  });

  it("profile: the athlete id from GET /athlete", async () => {
    const calls = fakeProvider(() => json(providerFixture("strava", "athlete.json")));
    await expect(stravaDriver.profile(context, TOKEN)).resolves.toEqual({ providerUserId: "1000001", timeZone: null });
    expect(calls[0]?.url.toString()).toBe("https://www.strava.com/api/v3/athlete");
    expect(calls[0]?.headers.get("Authorization")).toBe(`Bearer ${TOKEN}`);
  });

  it("3-month backfill: pages of 200 followed to the short last page, every activity once", async () => {
    const all = activities();
    const calls = fakeProvider(activitiesApi(all));
    const result = await walk(stravaDriver, BACKFILL, { context, token: TOKEN });
    expect(calls.map((call) => call.url.searchParams.get("page"))).toEqual(["1", "2", "3"]);
    for (const call of calls) {
      expect(call.url.searchParams.get("per_page")).toBe("200");
      expect(Number(call.url.searchParams.get("after"))).toBe(BACKFILL.since.getTime() / 1000 - 1);
      expect(Number(call.url.searchParams.get("before"))).toBe(BACKFILL.until.getTime() / 1000);
    }
    const ids = result.records.map((record) => (record.payload as { id: number }).id);
    expect(ids).toHaveLength(450);
    expect(new Set(ids).size).toBe(450);
    expect(result.records.every((record) => record.type === "activities")).toBe(true);
    expect(result.cursors).toEqual([
      { dataType: "activities", windowStart: BACKFILL.since.toISOString(), pageToken: "2" },
      { dataType: "activities", windowStart: BACKFILL.since.toISOString(), pageToken: "3" },
      null,
    ]);
  });

  it("a crash after the first page resumes from the stored cursor: the same activities, once", async () => {
    const all = activities();
    fakeProvider(activitiesApi(all));
    const first = await walk(stravaDriver, BACKFILL, { context, token: TOKEN, maxPages: 1 });
    const resumed = await walk(stravaDriver, BACKFILL, { context, token: TOKEN, cursor: first.cursors[0] ?? null });
    const ids = [...first.records, ...resumed.records].map((record) => (record.payload as { id: number }).id);
    expect(ids).toEqual(all.map((item) => item.id));
  });

  it("a range ending today asks only up to `until`", async () => {
    const calls = fakeProvider(() => json([]));
    const range = { since: new Date(BACKFILL.until.getTime() - DAY_MS), until: BACKFILL.until };
    await expect(stravaDriver.fetchRange(context, TOKEN, range, null)).resolves.toEqual({ records: [], next: null });
    expect(calls).toHaveLength(1);
  });

  describe("HTTP failures", () => {
    // Without any reset header Strava waits for its quarter hour: the next test.
    itMapsHttpErrors(() => stravaDriver.fetchRange(context, TOKEN, BACKFILL, null), { token: TOKEN, fallbackSeconds: null });
  });

  it("429 without Retry-After waits until Strava's next quarter-hour reset", async () => {
    fakeProvider(() =>
      json({ message: "Rate Limit Exceeded" }, 429, { "X-RateLimit-Limit": "100,1000", "X-RateLimit-Usage": "101,400" }),
    );
    const error = await stravaDriver.fetchRange(context, TOKEN, BACKFILL, null).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: "RATE_LIMITED" });
    const seconds = (error as { retryAfterSeconds: number }).retryAfterSeconds;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(900);
  });

  it("revoke: POST /oauth/deauthorize with the access token; an already dead token is fine", async () => {
    const calls = fakeProvider(() => json({ access_token: TOKEN }));
    await stravaDriver.revoke(context, { accessToken: TOKEN, refreshToken: "refresh" });
    expect(calls[0]?.method).toBe("POST");
    expect(calls[0]?.url.toString()).toBe("https://www.strava.com/oauth/deauthorize");
    expect(new URLSearchParams(calls[0]?.body ?? "").get("access_token")).toBe(TOKEN);
    fakeProvider(() => json({ message: "Authorization Error" }, 401));
    await expect(stravaDriver.revoke(context, { accessToken: TOKEN, refreshToken: null })).resolves.toBeUndefined();
  });

  it("push subscription: created with the client credentials and verify token when absent, left alone when present", async () => {
    const withToken = { ...context, webhookVerificationToken: "verify-me" };
    const created = fakeProvider((call) =>
      call.method === "GET" ? json([]) : json(providerFixture("strava", "push-subscription-created.json"), 201),
    );
    await stravaDriver.subscriptions?.ensure(withToken, null);
    expect(created.map((call) => call.method)).toEqual(["GET", "POST"]);
    expect(created[0]?.url.searchParams.get("client_id")).toBe("pulse-client");
    const form = new URLSearchParams(created[1]?.body ?? "");
    expect(Object.fromEntries(form)).toEqual({
      client_id: "pulse-client",
      client_secret: "pulse-secret",
      callback_url: "https://api.pulse.example/webhooks/strava",
      verify_token: "verify-me",
    });
    const existing = fakeProvider(() => json(providerFixture("strava", "push-subscriptions.json")));
    await stravaDriver.subscriptions?.ensure(withToken, null);
    expect(existing.map((call) => call.method)).toEqual(["GET"]);
  });

  it("map: fetched activities become workouts keyed by Strava id, versioned by fetch time", async () => {
    fakeProvider(activitiesApi(activities().slice(0, 3)));
    const { records } = await walk(stravaDriver, BACKFILL, { context, token: TOKEN });
    const mapped = stravaDriver.map(records, null);
    expect(mapped.rejected).toEqual([]);
    expect(mapped.workouts.map((workout) => workout.sourceRecordId)).toEqual([
      "activity:16000000000",
      "activity:16000000001",
      "activity:16000000002",
    ]);
    expect(mapped.workouts[0]?.version).toBe(records[0]?.fetchedAt);
    expect(mapped.observations.some((observation) => observation.metric === "distance")).toBe(true);
  });
});
