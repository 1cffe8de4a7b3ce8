import { afterEach, describe, expect, it, vi } from "vitest";
import { dexcomDriver } from "../../src/providers/dexcom/driver";
import { mapDexcomEgvs } from "../../src/providers/dexcom/mapping";
import { driverFor } from "../../src/providers/drivers";
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
});

/** Dexcom EGVs as documented: one answer per window, no paging; two readings named after the window. */
function egvsByWindow(request: SeenRequest) {
  const window = `${request.url.searchParams.get("startDate")}..${request.url.searchParams.get("endDate")}`;
  return json({
    recordType: "egv",
    recordVersion: "3.0",
    userId: "u",
    records: [{ recordId: `${window}#1` }, { recordId: `${window}#2` }],
  });
}

/** Dexcom's parameter format is UTC without an offset; read it back as UTC. */
const utc = (value: string | null) => Date.parse(`${value}Z`);

describe("Dexcom driver", () => {
  it("is the registered Dexcom driver", () => {
    expect(driverFor("dexcom")).toBe(dexcomDriver);
  });

  it("authorize URL: offline_access, state, no PKCE; a regional origin moves OAuth too", async () => {
    const { url } = await dexcomDriver.authorizationUrl(CONTEXT, "state-d");
    expect(url.origin + url.pathname).toBe("https://api.dexcom.com/v2/oauth2/login");
    expect(url.searchParams.get("scope")).toBe("offline_access");
    expect(url.searchParams.get("state")).toBe("state-d");
    expect(url.searchParams.has("code_challenge")).toBe(false);
    const eu = await dexcomDriver.authorizationUrl({ ...CONTEXT, origin: "https://api.dexcom.eu" }, "s");
    expect(eu.url.origin).toBe("https://api.dexcom.eu");
  });

  it("profile: the data range's userId (Dexcom has no profile endpoint); no zone", async () => {
    const seen = fakeProvider(() => json(providerFixture("dexcom", "data-range.json")));
    expect(await dexcomDriver.profile(CONTEXT, TOKEN)).toEqual({ providerUserId: "synthetic-user-0001", timeZone: null });
    expect(seen[0]?.url.toString()).toBe("https://api.dexcom.com/v3/users/self/dataRange");
    expect(seen[0]?.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
  });

  it("a 3-month backfill: consecutive windows of at most 30 days, UTC without offset, at the configured host", async () => {
    const seen = fakeProvider(egvsByWindow);
    const { records, cursors } = await walk(dexcomDriver, BACKFILL, {
      context: { ...CONTEXT, origin: "https://sandbox-api.dexcom.com" },
    });
    expect(seen.every((r) => r.url.origin === "https://sandbox-api.dexcom.com" && r.url.pathname === "/v3/users/self/egvs")).toBe(
      true,
    );
    expect(seen).toHaveLength(3);
    const windows = seen.map((r) => [r.url.searchParams.get("startDate"), r.url.searchParams.get("endDate")] as const);
    expect(windows[0]?.[0]).toBe("2026-01-01T00:00:00");
    expect(windows.at(-1)?.[1]).toBe("2026-04-01T00:00:00");
    windows.forEach(([start, end], i) => {
      expect(start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(utc(end) - utc(start)).toBeGreaterThan(0);
      expect(utc(end) - utc(start)).toBeLessThanOrEqual(30 * DAY_MS);
      if (i > 0) expect(start).toBe(windows[i - 1]?.[1]);
    });
    expect(records).toHaveLength(6);
    expect(records.every((r) => r.type === "egvs")).toBe(true);
    expect(cursors).toEqual([
      { dataType: "egvs", windowStart: "2026-01-31T00:00:00.000Z", pageToken: null },
      { dataType: "egvs", windowStart: "2026-03-02T00:00:00.000Z", pageToken: null },
      null,
    ]);
  });

  it("a crash mid-range resumes from the checkpoint and yields the same records exactly once", async () => {
    fakeProvider(egvsByWindow);
    const whole = await walk(dexcomDriver, BACKFILL);
    for (const crashAt of [0, 1, 2]) {
      expect(contents((await walk(dexcomDriver, BACKFILL, { crashAt })).records)).toEqual(contents(whole.records));
    }
  });

  describe("HTTP failures", () => {
    itMapsHttpErrors(() => dexcomDriver.fetchRange(CONTEXT, TOKEN, BACKFILL, null));
  });

  it("revoke: Dexcom has no revocation endpoint, so nothing is sent", async () => {
    const seen = fakeProvider(() => json({}));
    await expect(dexcomDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: "rt" })).resolves.toBeUndefined();
    expect(seen).toHaveLength(0);
  });

  it("map: fetched EGVs through the Dexcom mapping", async () => {
    fakeProvider(() => json(providerFixture("dexcom", "egvs-mixed.json")));
    const { records } = await walk(dexcomDriver, {
      since: new Date("2026-03-01T00:00:00Z"),
      until: new Date("2026-03-03T00:00:00Z"),
    });
    const mapped = dexcomDriver.map(records, null);
    const direct = mapDexcomEgvs(providerFixture("dexcom", "egvs-mixed.json"), { fetchedAt: FETCHED_AT });
    // EGVs are versioned 0 (never revised), so the fetch time does not enter the comparison.
    expect(mapped.observations).toEqual(direct.observations);
    expect(mapped.rejected).toEqual(direct.rejected);
    expect(mapped.observations.length).toBeGreaterThan(0);
  });
});
