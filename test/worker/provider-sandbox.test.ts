// The sandbox driver against the real sandbox provider (tools/sandbox-provider, started by
// test/support/sandbox-provider.global.ts): the consent page is approved by posting its form, as a
// browser would; everything after goes through the driver with the Worker's own configuration.
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { parseIngestBatch } from "../../durable-objects/health-store/batch-schema";
import { DomainError } from "../../src/errors/domain-error";
import { driverContextFor, getProvidersConfig, webhookSecretsFor } from "../../src/providers/config";
import type { DriverContext, ProviderTokens, SyncCursor, TimeRange } from "../../src/providers/driver";
import { driverFor } from "../../src/providers/drivers";
import { ProviderOAuthError } from "../../src/providers/oauth";
import { sandboxDriver } from "../../src/providers/sandbox/driver";
import type { ProviderRecord } from "../../src/providers/walk";
import { verifyWebhook } from "../../src/providers/webhooks/index";
import { answerSandboxConsent, controlSandboxUser, pushSandboxData } from "../support/sandbox-provider-client";
import type { SandboxProviderFixture } from "../support/sandbox-provider-fixture";

const sandbox: SandboxProviderFixture = inject("sandboxProvider");
const config = getProvidersConfig(env);
const context: DriverContext = driverContextFor(config, "sandbox");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Approves the consent page as `account`; the callback's query. */
async function approve(account: string, url: URL): Promise<URLSearchParams> {
  const location = await answerSandboxConsent(url, { account });
  expect(`${location.origin}${location.pathname}`).toBe(context.redirectUri);
  return location.searchParams;
}

async function connect(account: string): Promise<{ tokens: ProviderTokens; userId: string }> {
  const start = await sandboxDriver.authorizationUrl(context, `state-${account}`);
  const callback = await approve(account, start.url);
  expect(callback.get("state")).toBe(`state-${account}`);
  const tokens = await sandboxDriver.exchangeCode(context, callback.get("code") ?? "", start.codeVerifier);
  const profile = await sandboxDriver.profile(context, tokens.accessToken);
  return { tokens, userId: profile.providerUserId };
}

/** Every page of `range`, the cursor round-tripped through JSON as the sync checkpoint is. */
async function fetchAll(accessToken: string, range: TimeRange) {
  const pages: ProviderRecord[][] = [];
  let cursor: SyncCursor | null = null;
  do {
    const page = await sandboxDriver.fetchRange(context, accessToken, range, cursor);
    pages.push(page.records);
    cursor = page.next === null ? null : (JSON.parse(JSON.stringify(page.next)) as SyncCursor);
  } while (cursor !== null);
  return pages;
}

const control = (userId: string, body: unknown) => controlSandboxUser(sandbox.origin, userId, body);

/** A range ending on a whole hour that the new account's data already covers (it lags an hour). */
function pastDays(days: number): TimeRange {
  const until = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
  return { since: new Date(until - days * DAY), until: new Date(until) };
}

/** Workouts bring their energy, and a distance unless they are strength training. */
function workoutMetrics(mapped: { observations: { metric: string; sourceRecordId: string }[] }): string[] {
  const fromWorkouts = mapped.observations.filter((o) => o.sourceRecordId.startsWith("workout:"));
  return [...new Set(fromWorkouts.map((o) => `${o.metric}:${o.metric === "distance" ? "m" : "kcal"}`))];
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("sandbox provider through its driver", () => {
  it("is the registered driver, configured from PROVIDER_CREDENTIALS and SANDBOX_PROVIDER_ORIGIN", () => {
    expect(driverFor("sandbox")).toBe(sandboxDriver);
    expect(context).toMatchObject({ clientId: sandbox.clientId, origin: sandbox.origin, redirectUri: sandbox.redirectUri });
  });

  it("connects with PKCE through the consent page and reads the profile", async () => {
    const before = Date.now();
    const { tokens, userId } = await connect("connect-profile");
    expect(tokens.scopes).toEqual(["heart_rate", "sleep", "workouts"]);
    expect(tokens.refreshToken).toMatch(/^sbx_rt_/);
    expect(tokens.accessTokenExpiresAt?.getTime()).toBeGreaterThanOrEqual(before + HOUR - 5_000);
    expect(userId).toMatch(/^sbx_[0-9a-f]{20}$/);
    const again = await connect("connect-profile");
    expect(again.userId).toBe(userId);
    const profile = await sandboxDriver.profile(context, tokens.accessToken);
    expect(profile).toEqual({ providerUserId: userId, timeZone: "Europe/Berlin" });
  });

  it("refuses a code redeemed with the wrong PKCE verifier, and the code is spent", async () => {
    const start = await sandboxDriver.authorizationUrl(context, "state-pkce");
    const code = (await approve("pkce", start.url)).get("code") ?? "";
    const other = await sandboxDriver.authorizationUrl(context, "state-other");
    const wrong = await rejection(sandboxDriver.exchangeCode(context, code, other.codeVerifier));
    expect(wrong).toBeInstanceOf(ProviderOAuthError);
    expect((wrong as ProviderOAuthError).oauthError).toBe("invalid_grant");
    const retried = await rejection(sandboxDriver.exchangeCode(context, code, start.codeVerifier));
    expect((retried as ProviderOAuthError).oauthError).toBe("invalid_grant");
  });

  it("fetches 90 days across types, 30-day windows and pages; the mapping is storable as is", async () => {
    const { tokens } = await connect("backfill-90");
    const range = pastDays(90);
    const pages = await fetchAll(tokens.accessToken, range);
    const byType = new Map<string, number>();
    for (const record of pages.flat()) byType.set(record.type, (byType.get(record.type) ?? 0) + 1);
    // One heart-rate sample a minute, a glucose reading every 5 minutes, steps per quarter hour.
    expect(byType.get("heart_rate")).toBe(90 * 1440);
    expect(byType.get("glucose")).toBe(90 * 288);
    expect(byType.get("steps")).toBe(90 * 96);
    // About one night a day: bedtimes vary by an hour, so the range's edges may cut one either way.
    expect(byType.get("sleep")).toBeGreaterThanOrEqual(89);
    expect(byType.get("sleep")).toBeLessThanOrEqual(91);
    expect(byType.get("hrv")).toBe(byType.get("sleep"));
    expect(byType.get("workouts")).toBeGreaterThan(20);
    // Per 30-day window: 22 heart-rate pages, 5 glucose, 2 steps, one each for the rest.
    expect(pages.length).toBe(3 * (22 + 5 + 2 + 3));
    expect(Math.max(...pages.map((page) => page.length))).toBe(2000);

    const ids = new Set<string>();
    let observations = 0;
    for (const page of pages) {
      const mapped = sandboxDriver.map(page, "Europe/Berlin");
      expect(mapped.rejected).toEqual([]);
      const stored = parseIngestBatch({
        observations: mapped.observations,
        sleepSessions: mapped.sleepSessions,
        workouts: mapped.workouts,
      });
      observations += stored.observations.length;
      for (const item of [...mapped.observations, ...mapped.sleepSessions, ...mapped.workouts]) {
        expect(item.sourceKind).toBe("provider");
        expect(item.sourceApp).toBe("sandbox");
        ids.add(`${"metric" in item ? item.metric : "session"}|${item.sourceRecordId}`);
      }
      expect(mapped.observations.every((o) => !o.flagged)).toBe(true);
    }
    expect(observations).toBeGreaterThan(90 * (1440 + 288 + 96));
    expect(ids.size).toBe(observations + (byType.get("sleep") ?? 0) + (byType.get("workouts") ?? 0));
  }, 90_000);

  it("maps each type to its metric, unit and local date", async () => {
    const { tokens } = await connect("mapping");
    const pages = await fetchAll(tokens.accessToken, pastDays(2));
    const mapped = sandboxDriver.map(pages.flat(), "Europe/Berlin");
    const metrics = new Set(mapped.observations.map((o) => `${o.metric}:${o.unit}`));
    expect(metrics).toEqual(
      new Set(["blood_glucose:mg/dL", "heart_rate:bpm", "hrv_rmssd:ms", "steps:count", ...workoutMetrics(mapped)]),
    );
    const heartRate = mapped.observations.find((o) => o.metric === "heart_rate");
    // Europe/Berlin is UTC+1 or +2: the UTC samples are dated in the person's zone.
    expect([3600, 7200]).toContain(heartRate?.zoneOffsetSeconds);
    const night = mapped.sleepSessions[0];
    if (!night) throw new Error("two days hold a night");
    const { start, end, stages = [] } = night;
    expect(stages.length).toBeGreaterThan(4);
    expect(stages.every((stage) => stage.start >= start && stage.end <= end)).toBe(true);
  });

  it("answers the same records for the same range (a re-sync is duplicates)", async () => {
    const { tokens } = await connect("stable");
    const range = pastDays(1);
    const first = await sandboxDriver.fetchRange(context, tokens.accessToken, range, null);
    const second = await sandboxDriver.fetchRange(context, tokens.accessToken, range, null);
    const contents = (page: typeof first) => page.records.map(({ type, payload }) => ({ type, payload }));
    expect(contents(second)).toEqual(contents(first));
    expect(second.next).toEqual(first.next);
    expect(first.records).toHaveLength(1440);
  });

  it("rotates refresh tokens; a rotated one replayed is invalid_grant and revokes the grant", async () => {
    const { tokens } = await connect("rotation");
    const first = tokens.refreshToken ?? "";
    const rotated = await sandboxDriver.refresh(context, first);
    expect(rotated.refreshToken).not.toBe(first);
    const replay = await rejection(sandboxDriver.refresh(context, first));
    expect(replay).toBeInstanceOf(ProviderOAuthError);
    expect((replay as ProviderOAuthError).oauthError).toBe("invalid_grant");
    expect((replay as ProviderOAuthError).transient).toBe(false);
    // The whole family is gone: the newest refresh token and its access token too.
    const newest = await rejection(sandboxDriver.refresh(context, rotated.refreshToken ?? ""));
    expect((newest as ProviderOAuthError).oauthError).toBe("invalid_grant");
    const data = await rejection(sandboxDriver.fetchRange(context, rotated.accessToken, pastDays(1), null));
    expect((data as DomainError).code).toBe("UNAUTHENTICATED");
  });

  it("revokes through RFC 7009: the refresh token and the data API stop working", async () => {
    const { tokens } = await connect("revocation");
    await sandboxDriver.revoke(context, { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
    const refresh = await rejection(sandboxDriver.refresh(context, tokens.refreshToken ?? ""));
    expect((refresh as ProviderOAuthError).oauthError).toBe("invalid_grant");
    const data = await rejection(sandboxDriver.profile(context, tokens.accessToken));
    expect((data as DomainError).code).toBe("UNAUTHENTICATED");
  });

  it("turns the provider's 429 into RATE_LIMITED with its Retry-After, and a 500 into PROVIDER_FAILED; the cursor resumes", async () => {
    const { tokens, userId } = await connect("failures");
    const range = pastDays(5);
    const first = await sandboxDriver.fetchRange(context, tokens.accessToken, range, null);
    await control(userId, { rateLimit: { remaining: 0, retryAfter: 30 } });
    const limited = await rejection(sandboxDriver.fetchRange(context, tokens.accessToken, range, first.next));
    expect(limited).toBeInstanceOf(DomainError);
    expect(limited).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 30 });
    await control(userId, { rateLimit: null, failNext: 500 });
    const failed = await rejection(sandboxDriver.fetchRange(context, tokens.accessToken, range, first.next));
    expect((failed as DomainError).code).toBe("PROVIDER_FAILED");
    // The failure was one request: the same checkpoint now gives the second page.
    const second = await sandboxDriver.fetchRange(context, tokens.accessToken, range, first.next);
    expect(second.records[0]?.payload).toEqual({
      timestamp: new Date(range.since.getTime() + 2000 * 60_000).toISOString(),
      bpm: expect.any(Number),
      source: "wrist",
    });
  });

  it("pushes new data with a signed webhook that Pulse verifies; the pushed range has the new samples", async () => {
    const { tokens, userId } = await connect("push");
    const { delivery, receiver } = await pushSandboxData(sandbox.origin, userId);
    expect(receiver).toBeNull();
    const raw = {
      method: "POST",
      url: `${config.publicOrigin}/webhooks/sandbox`,
      headers: new Headers(delivery.headers),
      body: new TextEncoder().encode(delivery.body),
    };
    const outcome = await verifyWebhook("sandbox", raw, webhookSecretsFor(config), new Date());
    if (outcome.kind !== "delivery") throw new Error(`expected a delivery, got ${JSON.stringify(outcome)}`);
    const hint = outcome.hints[0];
    expect(hint).toMatchObject({ providerUserId: userId, dataType: "all", operation: "upsert" });
    const range = { since: new Date(hint?.start ?? ""), until: new Date(hint?.end ?? "") };
    expect(range.until.getTime() - range.since.getTime()).toBeGreaterThanOrEqual(HOUR);
    const page = await sandboxDriver.fetchRange(context, tokens.accessToken, range, null);
    expect(page.records).toHaveLength((range.until.getTime() - range.since.getTime()) / 60_000);
  });
});
