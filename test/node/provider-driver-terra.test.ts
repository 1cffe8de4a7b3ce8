import { afterEach, describe, expect, it, vi } from "vitest";
import { terraDriver } from "../../src/providers/terra/driver";
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

const USER = "synthetic-terra-user";
const STATE = "state-0123456789abcdefghij";
const context = { ...CONTEXT, redirectUri: "https://api.pulse.example/oauth/terra/callback", devId: "pulse-dev" };
const TYPES = ["activity", "body", "daily", "sleep"];

function expectDeveloperHeaders(call: SeenRequest): void {
  expect(call.headers.get("dev-id")).toBe("pulse-dev");
  expect(call.headers.get("x-api-key")).toBe("pulse-secret");
  expect(call.headers.has("Authorization")).toBe(false);
}

/** Terra's data endpoints: one item a day in `[start_date, end_date)`, in Terra's envelope. */
function dataApi(call: SeenRequest): Response {
  expectDeveloperHeaders(call);
  const type = call.url.pathname.slice("/v2/".length);
  expect(TYPES).toContain(type);
  expect(call.url.searchParams.get("user_id")).toBe(USER);
  expect(call.url.searchParams.get("to_webhook")).toBe("false");
  const start = Number(call.url.searchParams.get("start_date")) * 1000;
  const end = Number(call.url.searchParams.get("end_date")) * 1000;
  const fixture = providerFixture("terra", `${type}.json`) as { user: unknown; data: Record<string, unknown>[] };
  const [template] = fixture.data;
  const data = [];
  for (let at = start; at < end; at += DAY_MS) {
    const metadata = {
      ...(template?.metadata as object),
      start_time: new Date(at).toISOString(),
      end_time: new Date(at + 3600_000).toISOString(),
      summary_id: `${type}-${at}`,
    };
    data.push({ ...template, metadata });
  }
  return json({ status: "success", type, user: fixture.user, data });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Terra driver", () => {
  it("authorize: a widget session with the state as reference id and Pulse's callback for both outcomes", async () => {
    const calls = fakeProvider(() => json(providerFixture("terra", "widget-session.json")));
    const start = await terraDriver.authorizationUrl(context, STATE);
    expect(start.url.toString()).toBe("https://widget.tryterra.co/session/344d475f-296a-489a-a88c-54183671dafd");
    expect(start.codeVerifier).toBe(STATE);
    expect(calls[0]?.method).toBe("POST");
    expect(calls[0]?.url.toString()).toBe("https://api.tryterra.co/v2/auth/generateWidgetSession");
    expectDeveloperHeaders(calls[0] as SeenRequest);
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({
      reference_id: STATE,
      auth_success_redirect_url: context.redirectUri,
      auth_failure_redirect_url: context.redirectUri,
    });
  });

  it("without a configured dev id nothing is sent", async () => {
    const calls = fakeProvider(() => json({}));
    expect((await domainError(() => Promise.resolve(terraDriver.authorizationUrl(CONTEXT, STATE)))).code).toBe("INTERNAL");
    expect(calls).toHaveLength(0);
  });

  it("callback: reference_id is the state, user_id the code; a failure redirect has no code", () => {
    const success = new URLSearchParams({ user_id: USER, reference_id: STATE, resource: "GARMIN" });
    expect(terraDriver.readCallback?.(success)).toEqual({ code: USER, state: STATE });
    expect(terraDriver.readCallback?.(new URLSearchParams({ reference_id: STATE, resource: "GARMIN" }))).toBeNull();
  });

  it("code exchange: the Terra user id is the token, no refresh, no expiry; only the user this session created", async () => {
    const calls = fakeProvider(() => json(providerFixture("terra", "user-info.json")));
    await expect(terraDriver.exchangeCode(context, USER, STATE)).resolves.toEqual({
      accessToken: USER,
      refreshToken: null,
      accessTokenExpiresAt: null,
      scopes: null,
    });
    expect(calls[0]?.url.toString()).toBe(`https://api.tryterra.co/v2/userInfo?user_id=${USER}`);
    // Someone else's Terra user id replayed through this state: its reference id differs.
    expect((await domainError(() => terraDriver.exchangeCode(context, USER, "another-state-0123456789"))).code).toBe(
      "UNPROCESSABLE",
    );
  });

  it("profile: the user id Terra confirms", async () => {
    fakeProvider(() => json(providerFixture("terra", "user-info.json")));
    await expect(terraDriver.profile(context, USER)).resolves.toEqual({ providerUserId: USER, timeZone: null });
  });

  it("3-month backfill: four data types, each in windows of at most 28 days covering the range", async () => {
    const calls = fakeProvider(dataApi);
    const result = await walk(terraDriver, BACKFILL, { context, token: USER });
    for (const type of TYPES) {
      const windows = calls
        .filter((call) => call.url.pathname === `/v2/${type}`)
        .map((call) => [
          Number(call.url.searchParams.get("start_date")) * 1000,
          Number(call.url.searchParams.get("end_date")) * 1000,
        ]);
      expect(windows).toHaveLength(4);
      expect(windows[0]?.[0]).toBe(BACKFILL.since.getTime());
      expect(windows.at(-1)?.[1]).toBe(BACKFILL.until.getTime());
      windows.forEach(([start = 0, end = 0], index) => {
        expect(end - start).toBeLessThanOrEqual(28 * DAY_MS);
        if (index > 0) expect(start).toBe(windows[index - 1]?.[1]);
      });
      expect(result.records.filter((record) => record.type === type)).toHaveLength(90);
    }
    expect(result.cursors.at(-1)).toBeNull();
  });

  it("a crash mid-range resumes at the stored window: every item once", async () => {
    fakeProvider(dataApi);
    const all = await walk(terraDriver, BACKFILL, { context, token: USER });
    const first = await walk(terraDriver, BACKFILL, { context, token: USER, maxPages: 6 });
    expect(first.cursors.at(-1)).toMatchObject({ dataType: "body", pageToken: null });
    const resumed = await walk(terraDriver, BACKFILL, { context, token: USER, cursor: first.cursors.at(-1) ?? null });
    expect(contents([...first.records, ...resumed.records])).toEqual(contents(all.records));
  });

  it("'not available from provider' is an empty page; 'processing' asks to retry after Terra's retry_after", async () => {
    fakeProvider(() => json(providerFixture("terra", "not-available.json")));
    await expect(terraDriver.fetchRange(context, USER, BACKFILL, null)).resolves.toMatchObject({ records: [] });
    fakeProvider(() => json(providerFixture("terra", "processing.json")));
    const error = await domainError(() => terraDriver.fetchRange(context, USER, BACKFILL, null));
    expect(error).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 45 });
  });

  describe("HTTP failures: 404 is a user Terra dropped", () => {
    itMapsHttpErrors(() => terraDriver.fetchRange(context, USER, BACKFILL, null), { token: USER, unauthorized: 404 });
  });

  it("401 is Terra refusing Pulse's API key, not the user's access: PROVIDER_FAILED", async () => {
    fakeProvider(() => json({ status: "error", message: "unauthorized" }, 401));
    expect((await domainError(() => terraDriver.fetchRange(context, USER, BACKFILL, null))).code).toBe("PROVIDER_FAILED");
  });

  it("revoke: DELETE /v2/auth/deauthenticateUser?user_id; a user Terra no longer has is fine", async () => {
    const calls = fakeProvider(() => json(providerFixture("terra", "deauthenticated.json")));
    await terraDriver.revoke(context, { accessToken: USER, refreshToken: null });
    expect(calls[0]?.method).toBe("DELETE");
    expect(calls[0]?.url.toString()).toBe(`https://api.tryterra.co/v2/auth/deauthenticateUser?user_id=${USER}`);
    expectDeveloperHeaders(calls[0] as SeenRequest);
    fakeProvider(() => json({ status: "error" }, 404));
    await expect(terraDriver.revoke(context, { accessToken: USER, refreshToken: null })).resolves.toBeUndefined();
  });

  it("map: each record in Terra's envelope maps through its type, keyed by the source provider", async () => {
    fakeProvider(dataApi);
    const range = { since: BACKFILL.since, until: new Date(BACKFILL.since.getTime() + 2 * DAY_MS) };
    const { records } = await walk(terraDriver, range, { context, token: USER });
    const mapped = terraDriver.map(records, null);
    expect(mapped.rejected).toEqual([]);
    expect(mapped.workouts).toHaveLength(2);
    expect(mapped.sleepSessions).toHaveLength(2);
    // The fixture's activity came through Polar: ids carry the underlying provider and summary id.
    expect(mapped.workouts.map((workout) => workout.sourceRecordId)).toEqual([
      `activity:POLAR:activity-${BACKFILL.since.getTime()}`,
      `activity:POLAR:activity-${BACKFILL.since.getTime() + DAY_MS}`,
    ]);
    expect(mapped.observations.some((observation) => observation.metric === "steps")).toBe(true);
  });
});
