import { afterEach, describe, expect, it, vi } from "vitest";
import { polarDriver } from "../../src/providers/polar/driver";
import {
  BACKFILL,
  CONTEXT,
  contents,
  DAY_MS,
  domainError,
  fakeProvider,
  itMapsHttpErrors,
  json,
  type SeenRequest,
  walk,
} from "../support/provider-driver";
import { providerFixture } from "../support/provider-mapping";

const ACCESS = "polar-access-token-abc";
/** What Pulse stores for a Polar connection: the user id the token response named, and the token. */
const STORED = `1000001:${ACCESS}`;
const context = { ...CONTEXT, redirectUri: "https://api.pulse.example/oauth/polar/callback" };
const API = "https://www.polaraccesslink.com";

/** Polar keeps 30 days of exercises: the last 30 before `until`, plus one just after it. */
function exercises(): Record<string, unknown>[] {
  const [template] = providerFixture("polar", "exercises.json") as Record<string, unknown>[];
  return Array.from({ length: 31 }, (_, index) => {
    const wall = new Date(BACKFILL.until.getTime() - 30 * DAY_MS + index * DAY_MS + 8 * 3600_000);
    return { ...template, id: `synthetic-ex-${index}`, start_time: wall.toISOString().slice(0, 19), start_time_utc_offset: 0 };
  });
}

/** 28 nightly recharges up to the last night of the range. */
function recharges(): Record<string, unknown>[] {
  const {
    recharges: [template],
  } = providerFixture("polar", "nightly-recharge.json") as { recharges: Record<string, unknown>[] };
  return Array.from({ length: 28 }, (_, index) => ({
    ...template,
    date: new Date(BACKFILL.until.getTime() - (28 - index) * DAY_MS).toISOString().slice(0, 10),
  }));
}

function dataApi(call: SeenRequest): Response {
  expect(call.headers.get("Authorization")).toBe(`Bearer ${ACCESS}`);
  if (call.url.pathname === "/v3/exercises") return json(exercises());
  if (call.url.pathname === "/v3/users/nightly-recharge") return json({ recharges: recharges() });
  return json({ message: "not found" }, 404);
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Polar AccessLink driver", () => {
  it("authorize URL: Polar Flow, accesslink.read_all, state, no PKCE", async () => {
    const { url } = await polarDriver.authorizationUrl(context, "state-0123456789abcdefghij");
    expect(url.origin + url.pathname).toBe("https://flow.polar.com/oauth2/authorization");
    expect(url.searchParams.get("scope")).toBe("accesslink.read_all");
    expect(url.searchParams.get("state")).toBe("state-0123456789abcdefghij");
    expect(url.searchParams.has("code_challenge")).toBe(false);
  });

  it("code exchange: Basic-authenticated token request, then the user is registered; the stored token names the user", async () => {
    const calls = fakeProvider((call) =>
      call.url.host === "polarremote.com"
        ? json(providerFixture("polar", "token.json"))
        : json(providerFixture("polar", "user.json")),
    );
    const tokens = await polarDriver.exchangeCode(context, "the-code", "unused-verifier");
    expect(tokens).toMatchObject({ accessToken: STORED, refreshToken: null, providerUserId: "1000001" });
    expect(calls[0]?.url.toString()).toBe("https://polarremote.com/v2/oauth2/token");
    expect(calls[0]?.headers.get("Authorization")).toBe(`Basic ${btoa("pulse-client:pulse-secret")}`);
    expect(calls[1]?.method).toBe("POST");
    expect(calls[1]?.url.toString()).toBe(`${API}/v3/users`);
    expect(calls[1]?.headers.get("Authorization")).toBe(`Bearer ${ACCESS}`);
    expect(JSON.parse(calls[1]?.body ?? "")).toEqual({ "member-id": "pulse-1000001" });
  });

  it("registration is idempotent: 409 'already registered' still connects", async () => {
    fakeProvider((call) =>
      call.url.host === "polarremote.com"
        ? json(providerFixture("polar", "token.json"))
        : json(providerFixture("polar", "user-already-registered.json"), 409),
    );
    await expect(polarDriver.exchangeCode(context, "the-code", "v")).resolves.toMatchObject({ accessToken: STORED });
  });

  it("profile: GET /v3/users/{id} with the bare access token", async () => {
    const calls = fakeProvider(() => json(providerFixture("polar", "user.json")));
    await expect(polarDriver.profile(context, STORED)).resolves.toEqual({ providerUserId: "1000001", timeZone: null });
    expect(calls[0]?.url.toString()).toBe(`${API}/v3/users/1000001`);
    expect(calls[0]?.headers.get("Authorization")).toBe(`Bearer ${ACCESS}`);
  });

  it("3-month backfill: exercises then Nightly Recharge, one page each, filtered to the range", async () => {
    const calls = fakeProvider(dataApi);
    const result = await walk(polarDriver, BACKFILL, { context, token: STORED });
    expect(calls.map((call) => call.url.pathname)).toEqual(["/v3/exercises", "/v3/users/nightly-recharge"]);
    const exerciseIds = result.records
      .filter((record) => record.type === "exercises")
      .map((record) => (record.payload as { id: string }).id);
    // The 31st starts after `until`: not part of this range.
    expect(exerciseIds).toEqual(
      exercises()
        .slice(0, 30)
        .map((item) => item.id),
    );
    expect(result.records.filter((record) => record.type === "nightly_recharge")).toHaveLength(28);
    expect(result.cursors).toEqual([
      { dataType: "nightly_recharge", windowStart: BACKFILL.since.toISOString(), pageToken: null },
      null,
    ]);
  });

  it("a crash after the exercises resumes at Nightly Recharge: every record once", async () => {
    fakeProvider(dataApi);
    const first = await walk(polarDriver, BACKFILL, { context, token: STORED, maxPages: 1 });
    const resumed = await walk(polarDriver, BACKFILL, { context, token: STORED, cursor: first.cursors[0] ?? null });
    const all = await walk(polarDriver, BACKFILL, { context, token: STORED });
    expect(contents([...first.records, ...resumed.records])).toEqual(contents(all.records));
  });

  it("no data (204) is an empty page", async () => {
    fakeProvider(() => new Response(null, { status: 204 }));
    await expect(polarDriver.fetchRange(context, STORED, BACKFILL, null)).resolves.toMatchObject({ records: [] });
  });

  describe("HTTP failures", () => {
    itMapsHttpErrors(() => polarDriver.fetchRange(context, STORED, BACKFILL, null), { token: ACCESS });
  });

  it("a stored token without the user id is refused as unauthenticated", async () => {
    expect((await domainError(() => polarDriver.fetchRange(context, ACCESS, BACKFILL, null))).code).toBe("UNAUTHENTICATED");
  });

  it("revoke: DELETE /v3/users/{id} with the bearer token; a user already gone is fine", async () => {
    const calls = fakeProvider(() => new Response(null, { status: 204 }));
    await polarDriver.revoke(context, { accessToken: STORED, refreshToken: null });
    expect(calls[0]?.method).toBe("DELETE");
    expect(calls[0]?.url.toString()).toBe(`${API}/v3/users/1000001`);
    expect(calls[0]?.headers.get("Authorization")).toBe(`Bearer ${ACCESS}`);
    fakeProvider(() => json({ message: "not found" }, 404));
    await expect(polarDriver.revoke(context, { accessToken: STORED, refreshToken: null })).resolves.toBeUndefined();
  });

  it("map: exercises become workouts and Nightly Recharge RMSSD stays hrv_rmssd", async () => {
    fakeProvider(dataApi);
    const { records } = await walk(polarDriver, BACKFILL, { context, token: STORED });
    const mapped = polarDriver.map(records, null);
    expect(mapped.rejected).toEqual([]);
    expect(mapped.workouts).toHaveLength(30);
    expect(mapped.workouts[0]?.sourceRecordId).toBe("exercise:synthetic-ex-0");
    const hrv = mapped.observations.filter((observation) => observation.metric === "hrv_rmssd");
    expect(hrv).toHaveLength(28);
    expect(hrv[0]?.value).toBe(42);
  });
});
