import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { driverFor } from "../../src/providers/drivers";
import { ProviderOAuthError } from "../../src/providers/oauth";
import { withingsDriver } from "../../src/providers/withings/driver";
import { mapWithingsMeasures, mapWithingsSleepSummary } from "../../src/providers/withings/mapping";
import {
  BACKFILL,
  CONTEXT,
  contents,
  DAY_MS,
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
});

const ok = (body: unknown) => json({ status: 0, body });

/** Withings as documented: form POSTs, `{status, body}`, `more` + `offset` paging (measures in two pages). */
function pagedWithings(request: SeenRequest) {
  const params = form(request);
  if (params.get("action") === "getmeas") {
    const window = `${params.get("startdate")}..${params.get("enddate")}`;
    if (!params.has("offset")) {
      return ok({
        timezone: "Europe/Paris",
        measuregrps: [{ grpid: `${window}#1` }, { grpid: `${window}#2` }],
        more: 1,
        offset: 2,
      });
    }
    expect(params.get("offset")).toBe("2");
    return ok({ timezone: "Europe/Paris", measuregrps: [{ grpid: `${window}#3`, timezone: "Asia/Tokyo" }], more: 0, offset: 0 });
  }
  const window = `${params.get("startdateymd")}..${params.get("enddateymd")}`;
  return ok({ series: [{ id: `${window}#1` }], more: false, offset: 0 });
}

describe("Withings driver", () => {
  it("is the registered Withings driver", () => {
    expect(driverFor("withings")).toBe(withingsDriver);
  });

  it("authorize URL: comma-separated scopes, state, no PKCE", async () => {
    const { url } = await withingsDriver.authorizationUrl(CONTEXT, "state-x");
    expect(url.origin + url.pathname).toBe("https://account.withings.com/oauth2_user/authorize2");
    expect(url.searchParams.get("scope")).toBe("user.info,user.metrics,user.activity,user.sleepevents");
    expect(url.searchParams.get("state")).toBe("state-x");
    expect(url.searchParams.has("code_challenge")).toBe(false);
  });

  it("code exchange: action=requesttoken, the envelope read, and Withings' userid carried as providerUserId", async () => {
    const seen = fakeProvider(() => json(providerFixture("withings", "requesttoken.json")));
    const tokens = await withingsDriver.exchangeCode(CONTEXT, "code-1", "unused-verifier");
    expect(tokens).toMatchObject({
      accessToken: "withings-at-1",
      refreshToken: "withings-rt-1",
      scopes: ["user.info", "user.metrics", "user.activity", "user.sleepevents"],
      providerUserId: "36365698",
    });
    expect(tokens.accessTokenExpiresAt?.getTime()).toBeGreaterThan(Date.now() + 10_000_000);
    expect(seen[0]?.url.toString()).toBe("https://wbsapi.withings.net/v2/oauth2");
    expect(Object.fromEntries(form(seen[0] as SeenRequest))).toEqual({
      action: "requesttoken",
      client_id: "pulse-client",
      client_secret: "pulse-secret",
      grant_type: "authorization_code",
      code: "code-1",
      redirect_uri: CONTEXT.redirectUri,
    });
  });

  it("refresh: a refused refresh token is invalid_grant (reconnect); a rate limit or outage is transient", async () => {
    fakeProvider(() => json({ status: 503, body: {}, error: "Invalid Params: invalid refresh_token" }));
    const refused = await withingsDriver.refresh(CONTEXT, "rt-old").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProviderOAuthError);
    expect(refused).toMatchObject({ oauthError: "invalid_grant", transient: false });
    fakeProvider(() => json({ status: 601, body: {} }));
    expect(await withingsDriver.refresh(CONTEXT, "rt").catch((e: unknown) => e)).toMatchObject({ transient: true });
    fakeProvider(() => json({}, 502));
    expect(await withingsDriver.refresh(CONTEXT, "rt").catch((e: unknown) => e)).toMatchObject({ transient: true });
    const seen = fakeProvider(() => ok({ userid: 1, access_token: "at-2", refresh_token: "rt-2", expires_in: 10800 }));
    expect(await withingsDriver.refresh(CONTEXT, "rt-1")).toMatchObject({ accessToken: "at-2", refreshToken: "rt-2" });
    expect(form(seen[0] as SeenRequest).get("grant_type")).toBe("refresh_token");
    expect(form(seen[0] as SeenRequest).get("refresh_token")).toBe("rt-1");
  });

  it("profile: Withings has none; the user id comes with the tokens", async () => {
    await expect(withingsDriver.profile(CONTEXT, TOKEN)).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("a 3-month backfill: form POSTs with the bearer token, windows of at most 30 days, offset followed", async () => {
    const seen = fakeProvider(pagedWithings);
    const { records, cursors } = await walk(withingsDriver, BACKFILL);
    expect(seen.every((r) => r.method === "POST" && r.headers.get("authorization") === `Bearer ${TOKEN}`)).toBe(true);
    const meas = seen.filter((r) => r.url.pathname === "/measure").map(form);
    const sleep = seen.filter((r) => r.url.pathname === "/v2/sleep").map(form);
    expect(meas).toHaveLength(6);
    expect(sleep).toHaveLength(3);
    for (const params of meas) {
      expect(params.get("category")).toBe("1");
      const span = (Number(params.get("enddate")) - Number(params.get("startdate"))) * 1000;
      expect(span).toBeGreaterThan(0);
      expect(span).toBeLessThanOrEqual(30 * DAY_MS);
    }
    expect(meas[0]?.get("startdate")).toBe(String(BACKFILL.since.getTime() / 1000));
    expect(meas.at(-1)?.get("enddate")).toBe(String(BACKFILL.until.getTime() / 1000));
    for (const params of sleep) {
      expect(params.get("action")).toBe("getsummary");
      expect(params.get("data_fields")).toBe("hr_average,rr_average");
      const days = (Date.parse(params.get("enddateymd") ?? "") - Date.parse(params.get("startdateymd") ?? "")) / DAY_MS + 1;
      expect(days).toBeGreaterThan(0);
      expect(days).toBeLessThanOrEqual(30);
    }
    expect(sleep.map((p) => [p.get("startdateymd"), p.get("enddateymd")])).toEqual([
      ["2026-01-01", "2026-01-30"],
      ["2026-01-31", "2026-03-01"],
      ["2026-03-02", "2026-03-31"],
    ]);
    expect(records).toHaveLength(9 + 3);
    // The response's zone is copied onto groups without one; a group's own zone is kept.
    expect(records[0]).toMatchObject({ type: "measure", payload: { timezone: "Europe/Paris" } });
    expect(records[2]).toMatchObject({ type: "measure", payload: { timezone: "Asia/Tokyo" } });
    expect(cursors.at(-1)).toBeNull();
  });

  it("a crash mid-range resumes from the checkpoint and yields the same records exactly once", async () => {
    fakeProvider(pagedWithings);
    const whole = await walk(withingsDriver, BACKFILL);
    for (const crashAt of [0, 1, 4, 7]) {
      expect(contents((await walk(withingsDriver, BACKFILL, { crashAt })).records)).toEqual(contents(whole.records));
    }
  });

  describe("HTTP failures", () => {
    itMapsHttpErrors(() => withingsDriver.fetchRange(CONTEXT, TOKEN, BACKFILL, null));
  });

  it("failures written as `status` in a 200 body: 401 UNAUTHENTICATED, 601 RATE_LIMITED, others PROVIDER_FAILED", async () => {
    const fetchOnce = () => withingsDriver.fetchRange(CONTEXT, TOKEN, BACKFILL, null);
    fakeProvider(() => json({ status: 401, body: {}, error: "invalid_token" }));
    await expect(fetchOnce()).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    fakeProvider(() => json({ status: 601, body: {} }));
    await expect(fetchOnce()).rejects.toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 60 });
    fakeProvider(() => json({ status: 2554, body: {} }));
    await expect(fetchOnce()).rejects.toMatchObject({ code: "PROVIDER_FAILED" });
  });

  it("revoke: a nonce, then action=revoke for the user, both HMAC-SHA256-signed with the client secret", async () => {
    const seen = fakeProvider((request) => (form(request).get("action") === "getnonce" ? ok({ nonce: "nonce-42" }) : ok({})));
    await withingsDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: "rt", providerUserId: "36365698" });
    const [getnonce, revoke] = seen.map(form);
    const sign = (text: string) => createHmac("sha256", "pulse-secret").update(text).digest("hex");
    expect(seen.map((r) => r.url.pathname)).toEqual(["/v2/signature", "/v2/oauth2"]);
    expect(getnonce?.get("signature")).toBe(sign(`getnonce,pulse-client,${getnonce?.get("timestamp")}`));
    expect(Math.abs(Number(getnonce?.get("timestamp")) - Date.now() / 1000)).toBeLessThan(60);
    expect(Object.fromEntries(revoke ?? [])).toEqual({
      action: "revoke",
      client_id: "pulse-client",
      nonce: "nonce-42",
      signature: sign("revoke,pulse-client,nonce-42"),
      userid: "36365698",
    });
    await expect(withingsDriver.revoke(CONTEXT, { accessToken: TOKEN, refreshToken: null })).rejects.toMatchObject({
      code: "INTERNAL",
    });
  });

  it("notifications: subscribe and revoke Pulse's callback for each category, with the person's token", async () => {
    const seen = fakeProvider(() => ok({}));
    await withingsDriver.subscriptions?.ensure(CONTEXT, TOKEN);
    await withingsDriver.subscriptions?.remove(CONTEXT, TOKEN, "36365698");
    const calls = seen.map((r) => {
      const params = form(r);
      return [
        r.url.pathname,
        params.get("action"),
        params.get("appli"),
        params.get("callbackurl"),
        r.headers.get("authorization"),
      ];
    });
    const callback = "https://api.pulse.test/webhooks/withings";
    const bearer = `Bearer ${TOKEN}`;
    expect(calls).toEqual([
      ...["1", "2", "4", "44"].map((appli) => ["/notify", "subscribe", appli, callback, bearer]),
      ...["1", "2", "4", "44"].map((appli) => ["/notify", "revoke", appli, callback, bearer]),
    ]);
  });

  it("map: fetched measure groups and nights through the Withings mappings, the response zone kept", async () => {
    fakeProvider((request) =>
      json(providerFixture("withings", form(request).get("action") === "getmeas" ? "getmeas.json" : "sleep-getsummary.json")),
    );
    const { records } = await walk(withingsDriver, {
      since: new Date("2026-03-01T00:00:00Z"),
      until: new Date("2026-03-03T00:00:00Z"),
    });
    const mapped = withingsDriver.map(records, null);
    const context = { fetchedAt: FETCHED_AT };
    const measures = mapWithingsMeasures(providerFixture("withings", "getmeas.json"), context);
    const nights = mapWithingsSleepSummary(providerFixture("withings", "sleep-getsummary.json"), context);
    // Withings versions are its own `modified` times, so the fetch time does not enter the comparison.
    expect(mapped.observations).toEqual([...measures.observations, ...nights.observations]);
    expect(mapped.sleepSessions).toEqual(nights.sleepSessions);
    expect(mapped.observations.some((o) => o.zoneOffsetSeconds === 3600)).toBe(true);
  });
});
