import { afterEach, describe, expect, it, vi } from "vitest";
import { googleHealthDriver } from "../../src/providers/google-health/driver";
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

const TOKEN = "ya29.synthetic-access-token";
const context = { ...CONTEXT, redirectUri: "https://api.pulse.example/oauth/google-health/callback" };
const API = "https://health.googleapis.com/v4/users/me";

/** The fixture's data points by type, as `users.dataTypes.dataPoints.list` returns them. */
function points(type: string): Record<string, unknown>[] {
  const { dataPoints } = providerFixture("google-health", "data-points.json") as { dataPoints: Record<string, unknown>[] };
  return dataPoints.filter((point) => String(point.name).includes(`/dataTypes/${type}/`));
}

/**
 * The list endpoint: heart rate in three pages of two samples (the fixture's, under new ids),
 * steps and sleep in one page each; `nextPageToken` as Google sends it (absent on the last page).
 */
function dataApi(call: SeenRequest): Response {
  expect(call.headers.get("Authorization")).toBe(`Bearer ${TOKEN}`);
  const type = /\/dataTypes\/([^/]+)\/dataPoints$/.exec(call.url.pathname)?.[1] ?? "";
  const token = call.url.searchParams.get("pageToken");
  if (type === "heart-rate") {
    const pageNumber = token === null ? 0 : Number(token.replace("opaque-", ""));
    const [sample] = points("heart-rate");
    const dataPoints = Array.from({ length: 2 }, (_, index) => ({
      ...sample,
      name: `users/me/dataTypes/heart-rate/dataPoints/hr-${pageNumber}-${index}`,
    }));
    return json({ dataPoints, ...(pageNumber < 2 ? { nextPageToken: `opaque-${pageNumber + 1}` } : {}) });
  }
  if (type === "steps" || type === "sleep") return json({ dataPoints: points(type) });
  return json({ error: { code: 404, status: "NOT_FOUND" } }, 404);
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Google Health API driver", () => {
  it("authorize URL: Google OAuth with PKCE S256, offline access with consent, the read-only Google Health scopes", async () => {
    const { url, codeVerifier } = await googleHealthDriver.authorizationUrl(context, "state-0123456789abcdefghij");
    expect(url.origin + url.pathname).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier)));
    const challenge = btoa(String.fromCharCode(...digest))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(url.searchParams.get("code_challenge")).toBe(challenge);
    expect(url.searchParams.get("access_type")).toBe("offline");
    expect(url.searchParams.get("prompt")).toBe("consent");
    const scopes = url.searchParams.get("scope")?.split(" ") ?? [];
    expect(scopes).toContain("https://www.googleapis.com/auth/googlehealth.sleep.readonly");
    expect(scopes.every((scope) => scope.endsWith(".readonly"))).toBe(true);
  });

  it("code exchange sends the PKCE verifier and reads Google's token answer", async () => {
    const calls = fakeProvider(() => json(providerFixture("google-health", "token.json")));
    const tokens = await googleHealthDriver.exchangeCode(context, "the-code", "the-verifier-0123456789012345678901234567890");
    expect(tokens).toMatchObject({ accessToken: TOKEN, refreshToken: "1//synthetic-refresh-token" });
    expect(calls[0]?.url.toString()).toBe("https://oauth2.googleapis.com/token");
    expect(new URLSearchParams(calls[0]?.body ?? "").get("code_verifier")).toBe("the-verifier-0123456789012345678901234567890");
  });

  it("profile: healthUserId from GET /v4/users/me/identity", async () => {
    const calls = fakeProvider(() => json(providerFixture("google-health", "identity.json")));
    await expect(googleHealthDriver.profile(context, TOKEN)).resolves.toEqual({ providerUserId: "4321098765", timeZone: null });
    expect(calls[0]?.url.toString()).toBe(`${API}/identity`);
  });

  it("3-month backfill: heart rate, steps, sleep, each filtered to the range; page tokens followed", async () => {
    const calls = fakeProvider(dataApi);
    const result = await walk(googleHealthDriver, BACKFILL, { context, token: TOKEN });
    expect(calls.map((call) => [call.url.pathname.split("/")[5], call.url.searchParams.get("pageToken")])).toEqual([
      ["heart-rate", null],
      ["heart-rate", "opaque-1"],
      ["heart-rate", "opaque-2"],
      ["steps", null],
      ["sleep", null],
    ]);
    const since = BACKFILL.since.toISOString();
    const until = BACKFILL.until.toISOString();
    expect(calls[0]?.url.searchParams.get("filter")).toBe(
      `heart_rate.sample_time.physical_time >= "${since}" AND heart_rate.sample_time.physical_time < "${until}"`,
    );
    expect(calls[3]?.url.searchParams.get("filter")).toBe(
      `steps.interval.start_time >= "${since}" AND steps.interval.start_time < "${until}"`,
    );
    expect(calls[4]?.url.searchParams.get("pageSize")).toBe("25");
    expect(result.records.map((record) => record.type)).toEqual([...Array(6).fill("heart-rate"), "steps", "sleep"]);
    expect(result.cursors).toEqual([
      { dataType: "heart-rate", windowStart: since, pageToken: "opaque-1" },
      { dataType: "heart-rate", windowStart: since, pageToken: "opaque-2" },
      { dataType: "steps", windowStart: since, pageToken: null },
      { dataType: "sleep", windowStart: since, pageToken: null },
      null,
    ]);
  });

  it("a crash after the second page resumes with Google's page token: every data point once", async () => {
    fakeProvider(dataApi);
    const all = await walk(googleHealthDriver, BACKFILL, { context, token: TOKEN });
    const first = await walk(googleHealthDriver, BACKFILL, { context, token: TOKEN, maxPages: 2 });
    const resumed = await walk(googleHealthDriver, BACKFILL, {
      context: context,
      token: TOKEN,
      cursor: first.cursors.at(-1) ?? null,
    });
    const names = (records: { payload: unknown }[]) => records.map((record) => (record.payload as { name: string }).name);
    expect(names([...first.records, ...resumed.records])).toEqual(names(all.records));
    expect(new Set(names(all.records)).size).toBe(all.records.length);
  });

  it("a page without dataPoints (proto3 leaves empty lists out) is empty", async () => {
    fakeProvider(() => json({}));
    const range = { since: BACKFILL.since, until: new Date(BACKFILL.since.getTime() + DAY_MS) };
    await expect(googleHealthDriver.fetchRange(context, TOKEN, range, null)).resolves.toEqual({
      records: [],
      next: { dataType: "steps", windowStart: range.since.toISOString(), pageToken: null },
    });
  });

  describe("HTTP failures", () => {
    itMapsHttpErrors(() => googleHealthDriver.fetchRange(context, TOKEN, BACKFILL, null), { token: TOKEN });
  });

  it("revoke: RFC 7009 at Google's endpoint with the refresh token", async () => {
    const calls = fakeProvider(() => new Response(null, { status: 200 }));
    await googleHealthDriver.revoke(context, { accessToken: TOKEN, refreshToken: "1//synthetic-refresh-token" });
    expect(calls[0]?.method).toBe("POST");
    expect(calls[0]?.url.toString()).toBe("https://oauth2.googleapis.com/revoke");
    expect(new URLSearchParams(calls[0]?.body ?? "").get("token")).toBe("1//synthetic-refresh-token");
  });

  it("map: heart-rate samples, step intervals and the sleep session from fetched data points", async () => {
    fakeProvider(dataApi);
    const { records } = await walk(googleHealthDriver, BACKFILL, { context, token: TOKEN });
    const mapped = googleHealthDriver.map(records, null);
    expect(mapped.rejected).toEqual([]);
    expect(mapped.observations.filter((observation) => observation.metric === "heart_rate")).toHaveLength(6);
    expect(mapped.observations.filter((observation) => observation.metric === "steps")).toHaveLength(1);
    expect(mapped.sleepSessions).toHaveLength(1);
    expect(mapped.sleepSessions[0]?.sourceRecordId).toBe("dataPoint:sleep/synthetic-sleep-1");
  });
});
