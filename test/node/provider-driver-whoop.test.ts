import { afterEach, describe, expect, it, vi } from "vitest";
import { driverFor } from "../../src/providers/drivers";
import { whoopDriver } from "../../src/providers/whoop/driver";
import { mapWhoopSleep, mapWhoopWorkouts } from "../../src/providers/whoop/mapping";
import {
  BACKFILL,
  CONTEXT,
  contents,
  fakeProvider,
  form,
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

/** WHOOP collections as documented: `{records, next_token}`, at most `limit` (≤ 25) per page; three pages per type. */
function pagedWhoop(request: SeenRequest) {
  const type = request.url.pathname.replace("/developer/v2/", "");
  const page = Number(request.url.searchParams.get("nextToken") ?? "1");
  const records = [1, 2].map((n) => ({ id: `${type}#${page}.${n}` }));
  return json({ records, next_token: page < 3 ? String(page + 1) : null });
}

describe("WHOOP driver", () => {
  it("is the registered WHOOP driver", () => {
    expect(driverFor("whoop")).toBe(whoopDriver);
  });

  it("authorize URL: read scopes plus `offline` (refresh tokens), state, no PKCE", async () => {
    const { url } = await whoopDriver.authorizationUrl(CONTEXT, "state-w");
    expect(url.origin + url.pathname).toBe("https://api.prod.whoop.com/oauth/oauth2/auth");
    expect(url.searchParams.get("scope")?.split(" ")).toEqual([
      "offline",
      "read:profile",
      "read:recovery",
      "read:cycles",
      "read:sleep",
      "read:workout",
      "read:body_measurement",
    ]);
    expect(url.searchParams.get("state")).toBe("state-w");
    expect(url.searchParams.has("code_challenge")).toBe(false);
  });

  it("refresh: the rotated refresh token is what the caller gets back", async () => {
    const seen = fakeProvider(() =>
      json({ access_token: "at-2", refresh_token: "rt-2", expires_in: 3600, scope: "offline read:sleep", token_type: "bearer" }),
    );
    const tokens = await whoopDriver.refresh(CONTEXT, "rt-1");
    expect(tokens).toMatchObject({ accessToken: "at-2", refreshToken: "rt-2" });
    expect(form(seen[0] as SeenRequest).get("refresh_token")).toBe("rt-1");
    expect(form(seen[0] as SeenRequest).get("client_secret")).toBe("pulse-secret");
  });

  it("profile: the numeric user_id as a string (how webhooks name the member); no zone", async () => {
    const seen = fakeProvider(() => json(providerFixture("whoop", "profile-basic.json")));
    expect(await whoopDriver.profile(CONTEXT, TOKEN)).toEqual({ providerUserId: "10129", timeZone: null });
    expect(seen[0]?.url.toString()).toBe("https://api.prod.whoop.com/developer/v2/user/profile/basic");
    expect(seen[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
  });

  it("a 3-month backfill: each collection over the whole range (no span limit), 25 a page, nextToken followed", async () => {
    const seen = fakeProvider(pagedWhoop);
    const { records, cursors } = await walk(whoopDriver, BACKFILL);
    expect(seen.map((r) => `${r.url.pathname.replace("/developer/v2/", "")}:${r.url.searchParams.get("nextToken")}`)).toEqual([
      "recovery:null",
      "recovery:2",
      "recovery:3",
      "activity/sleep:null",
      "activity/sleep:2",
      "activity/sleep:3",
      "cycle:null",
      "cycle:2",
      "cycle:3",
      "activity/workout:null",
      "activity/workout:2",
      "activity/workout:3",
    ]);
    for (const request of seen) {
      expect(request.url.searchParams.get("start")).toBe(BACKFILL.since.toISOString());
      expect(request.url.searchParams.get("end")).toBe(BACKFILL.until.toISOString());
      expect(request.url.searchParams.get("limit")).toBe("25");
    }
    expect(records).toHaveLength(4 * 3 * 2);
    expect(records.slice(0, 6).every((r) => r.type === "recovery")).toBe(true);
    expect(records.slice(6, 12).every((r) => r.type === "sleep")).toBe(true);
    expect(cursors.at(-1)).toBeNull();
  });

  it("a crash mid-range resumes from the checkpoint and yields the same records exactly once", async () => {
    fakeProvider(pagedWhoop);
    const whole = await walk(whoopDriver, BACKFILL);
    for (const crashAt of [0, 2, 5, 11]) {
      expect(contents((await walk(whoopDriver, BACKFILL, { crashAt })).records)).toEqual(contents(whole.records));
    }
  });

  describe("HTTP failures", () => {
    itMapsHttpErrors(() => whoopDriver.fetchRange(CONTEXT, TOKEN, BACKFILL, null));
  });

  it("revoke: DELETE /developer/v2/user/access with the user's token; a dead token is already revoked", async () => {
    const seen = fakeProvider(() => new Response(null, { status: 204 }));
    await whoopDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: "rt" });
    expect(seen[0]?.method).toBe("DELETE");
    expect(seen[0]?.url.toString()).toBe("https://api.prod.whoop.com/developer/v2/user/access");
    expect(seen[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    fakeProvider(() => json({ message: "unauthorized" }, 401));
    await expect(whoopDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: null })).resolves.toBeUndefined();
  });

  it("map: fetched records go to the mapping of their type, merged into one batch", async () => {
    const files: Record<string, string> = {
      recovery: "recovery.json",
      "activity/sleep": "sleep.json",
      cycle: "cycle.json",
      "activity/workout": "workout.json",
    };
    fakeProvider((request) => json(providerFixture("whoop", files[request.url.pathname.replace("/developer/v2/", "")] ?? "")));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(FETCHED_AT);
    const { records } = await walk(whoopDriver, BACKFILL);
    vi.useRealTimers();
    const mapped = whoopDriver.map(records, null);
    const context = { fetchedAt: FETCHED_AT, timeZone: null };
    expect(mapped.sleepSessions).toEqual(mapWhoopSleep(providerFixture("whoop", "sleep.json"), context).sleepSessions);
    expect(mapped.workouts).toEqual(mapWhoopWorkouts(providerFixture("whoop", "workout.json"), context).workouts);
    expect(mapped.observations.some((o) => o.metric === "hrv_rmssd")).toBe(true);
  });
});
