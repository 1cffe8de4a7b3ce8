import { afterEach, describe, expect, it, vi } from "vitest";
import { driverFor } from "../../src/providers/drivers";
import { ouraDriver } from "../../src/providers/oura/driver";
import { mapOuraHeartRate, mapOuraSleep } from "../../src/providers/oura/mapping";
import {
  BACKFILL,
  CONTEXT,
  contents,
  DAY_MS,
  fakeProvider,
  itMapsHttpErrors,
  json,
  type SeenRequest,
  TOKEN,
  walk,
} from "../support/provider-driver";
import { FETCHED_AT, providerFixture } from "../support/provider-mapping";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/**
 * Oura's collections as documented: `{data, next_token}`, two pages per request window (the first
 * answers a `next_token`), items named after the window and page so every record is traceable.
 */
function pagedOura(request: SeenRequest) {
  const type = request.url.pathname.replace("/v2/usercollection/", "");
  const q = request.url.searchParams;
  const window = `${q.get("start_date") ?? q.get("start_datetime")}..${q.get("end_date") ?? q.get("end_datetime")}`;
  const token = q.get("next_token");
  if (token === null)
    return json({ data: [{ id: `${type}@${window}#1` }, { id: `${type}@${window}#2` }], next_token: `${window}|p2` });
  expect(token).toBe(`${window}|p2`);
  return json({ data: [{ id: `${type}@${window}#3` }], next_token: null });
}

describe("Oura driver", () => {
  it("is the registered Oura driver", () => {
    expect(driverFor("oura")).toBe(ouraDriver);
  });

  it("authorize URL: Oura's read scopes space-separated, state, no PKCE (Oura does not take it)", async () => {
    const { url } = await ouraDriver.authorizationUrl(CONTEXT, "state-1");
    expect(url.origin + url.pathname).toBe("https://cloud.ouraring.com/oauth/authorize");
    expect(url.searchParams.get("scope")).toBe("personal daily heartrate workout session spo2");
    expect(url.searchParams.get("state")).toBe("state-1");
    expect(url.searchParams.get("client_id")).toBe("pulse-client");
    expect(url.searchParams.get("redirect_uri")).toBe(CONTEXT.redirectUri);
    expect(url.searchParams.has("code_challenge")).toBe(false);
  });

  it("profile: personal_info's id with the user's bearer token; Oura reports no zone", async () => {
    const seen = fakeProvider(() => json(providerFixture("oura", "personal_info.json")));
    expect(await ouraDriver.profile(CONTEXT, TOKEN)).toEqual({ providerUserId: "synthetic-oura-user-7f3a", timeZone: null });
    expect(seen[0]?.url.toString()).toBe("https://api.ouraring.com/v2/usercollection/personal_info");
    expect(seen[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.headers.get("accept")).toBe("application/json");
  });

  it("a 3-month backfill: every type, windows of at most 30 days covering the range, next_token followed", async () => {
    const seen = fakeProvider(pagedOura);
    const { records, cursors } = await walk(ouraDriver, BACKFILL);

    const types = [...new Set(seen.map((r) => r.url.pathname.split("/").pop()))];
    expect(types).toEqual(["daily_activity", "heartrate", "sleep", "daily_spo2", "workout"]);
    for (const request of seen) {
      const q = request.url.searchParams;
      if (request.url.pathname.endsWith("/heartrate")) {
        const span = Date.parse(q.get("end_datetime") ?? "") - Date.parse(q.get("start_datetime") ?? "");
        expect(span).toBeGreaterThan(0);
        expect(span).toBeLessThanOrEqual(30 * DAY_MS);
      } else {
        // Inclusive days: at most 30 of them.
        const days = (Date.parse(q.get("end_date") ?? "") - Date.parse(q.get("start_date") ?? "")) / DAY_MS + 1;
        expect(days).toBeGreaterThan(0);
        expect(days).toBeLessThanOrEqual(30);
      }
    }
    // Heart rate windows tile [since, until) exactly.
    const hr = seen.filter((r) => r.url.pathname.endsWith("/heartrate") && !r.url.searchParams.has("next_token"));
    expect(hr[0]?.url.searchParams.get("start_datetime")).toBe(BACKFILL.since.toISOString());
    expect(hr.at(-1)?.url.searchParams.get("end_datetime")).toBe(BACKFILL.until.toISOString());
    for (let i = 1; i < hr.length; i++) {
      expect(hr[i]?.url.searchParams.get("start_datetime")).toBe(hr[i - 1]?.url.searchParams.get("end_datetime"));
    }
    // 90 days = 3 windows × 2 pages × 5 types; each page's records tagged with its type.
    expect(seen).toHaveLength(30);
    expect(records).toHaveLength(5 * 3 * 3);
    expect(new Set(records.map((r) => (r.payload as { id: string }).id)).size).toBe(records.length);
    expect(records.every((r) => (r.payload as { id: string }).id.startsWith(`${r.type}@`))).toBe(true);
    expect(cursors.at(-1)).toBeNull();
    expect(cursors.slice(0, -1).every((c) => c !== null && JSON.parse(JSON.stringify(c)) !== null)).toBe(true);
    expect(JSON.stringify(cursors)).not.toContain(TOKEN);
  });

  it("a crash mid-range resumes from the checkpoint and yields the same records exactly once", async () => {
    fakeProvider(pagedOura);
    const whole = await walk(ouraDriver, BACKFILL);
    for (const crashAt of [1, 7, 18]) {
      const resumed = await walk(ouraDriver, BACKFILL, { crashAt });
      expect(contents(resumed.records)).toEqual(contents(whole.records));
    }
  });

  it("a checkpoint from another provider or outside the range is refused, not guessed", async () => {
    fakeProvider(pagedOura);
    const foreign = { dataType: "egvs", windowStart: BACKFILL.since.toISOString(), pageToken: null };
    await expect(ouraDriver.fetchRange(CONTEXT, TOKEN, BACKFILL, foreign)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    const outside = { dataType: "sleep", windowStart: "2025-01-01T00:00:00.000Z", pageToken: null };
    await expect(ouraDriver.fetchRange(CONTEXT, TOKEN, BACKFILL, outside)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  describe("HTTP failures", () => {
    itMapsHttpErrors(() => ouraDriver.fetchRange(CONTEXT, TOKEN, BACKFILL, null));
  });

  it("revoke: Oura's revoke call with the access token; a token Oura no longer knows is done", async () => {
    const seen = fakeProvider(() => new Response(null, { status: 200 }));
    await ouraDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: "rt" });
    expect(seen[0]?.method).toBe("GET");
    expect(seen[0]?.url.origin + (seen[0]?.url.pathname ?? "")).toBe("https://api.ouraring.com/oauth/revoke");
    expect(seen[0]?.url.searchParams.get("access_token")).toBe(TOKEN);

    fakeProvider(() => json({ detail: "invalid token" }, 401));
    await expect(ouraDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: null })).resolves.toBeUndefined();
    fakeProvider(() => json({ detail: "down" }, 502));
    await expect(ouraDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: null })).rejects.toMatchObject({
      code: "PROVIDER_FAILED",
    });
  });

  it("map: fetched records go to the mapping of their type, merged into one batch", async () => {
    fakeProvider((request) => {
      const type = request.url.pathname.split("/").pop() ?? "";
      return json(providerFixture("oura", `${type}.json`));
    });
    const range = { since: new Date("2026-03-01T00:00:00Z"), until: new Date("2026-03-04T00:00:00Z") };
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(FETCHED_AT);
    const { records } = await walk(ouraDriver, range);
    vi.useRealTimers();
    const unmapped = { type: "ring_configuration", payload: {}, fetchedAt: FETCHED_AT };
    const mapped = ouraDriver.map([...records, unmapped], "America/New_York");

    const context = { fetchedAt: FETCHED_AT, timeZone: "America/New_York" };
    const sleep = mapOuraSleep(providerFixture("oura", "sleep.json"), context);
    const heart = mapOuraHeartRate(providerFixture("oura", "heartrate.json"), context);
    expect(mapped.sleepSessions).toEqual(sleep.sleepSessions);
    expect(mapped.observations).toEqual(expect.arrayContaining([...sleep.observations, ...heart.observations]));
    expect(mapped.workouts.length).toBeGreaterThan(0);
    expect(mapped.workouts.every((w) => w.sourceApp === "oura")).toBe(true);
    expect(mapped.rejected).toContainEqual({ sourceRecordId: null, reason: "record type has no mapping" });
  });

  describe("webhook subscriptions (app-level, expiring)", () => {
    const context = { ...CONTEXT, webhookVerificationToken: "verify-me" };

    it("ensure: creates each missing data type × event for Pulse's callback, with the app's credentials", async () => {
      const seen = fakeProvider((request) =>
        request.method === "GET" ? json(providerFixture("oura", "webhook-subscriptions.json")) : json({ id: "new" }, 201),
      );
      await ouraDriver.subscriptions?.ensure(context, null);
      const created = seen.filter((r) => r.method === "POST").map((r) => JSON.parse(r.body));
      // 5 types × 2 events, less sleep/create and sleep/update that exist for Pulse's callback.
      expect(created).toHaveLength(8);
      expect(created).not.toContainEqual(expect.objectContaining({ data_type: "sleep" }));
      expect(created).toContainEqual({
        callback_url: "https://api.pulse.test/webhooks/oura",
        verification_token: "verify-me",
        event_type: "create",
        data_type: "workout",
      });
      for (const request of seen) {
        expect(request.url.pathname).toBe("/v2/webhook/subscription");
        expect(request.headers.get("x-client-id")).toBe("pulse-client");
        expect(request.headers.get("x-client-secret")).toBe("pulse-secret");
        expect(request.headers.has("authorization")).toBe(false);
      }
    });

    it("ensure without a configured verification token refuses rather than subscribing blind", async () => {
      const seen = fakeProvider(() => json([]));
      await expect(ouraDriver.subscriptions?.ensure(CONTEXT, null)).rejects.toMatchObject({ code: "INTERNAL" });
      expect(seen).toHaveLength(0);
    });

    it("renew: renews Pulse's subscriptions expiring within a week, not the others or another app's", async () => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(new Date("2026-03-01T00:00:00Z"));
      const seen = fakeProvider((request) =>
        request.method === "GET" ? json(providerFixture("oura", "webhook-subscriptions.json")) : json({ id: "renewed" }),
      );
      await ouraDriver.subscriptions?.renew(context);
      const renewed = seen.filter((r) => r.method === "PUT").map((r) => r.url.pathname);
      expect(renewed).toEqual(["/v2/webhook/subscription/renew/5f0d3c9e-0000-4000-8000-000000000001"]);
    });
  });
});
