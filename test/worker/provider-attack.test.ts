// Regressions from a black-box review of provider connections (docs/providers.md "Attack review"):
// each case is an attack that once got a 500, a wrong answer, or data back after it was deleted.
// Real app, D1, HealthStore and OAuthState in workerd; only providers' HTTP APIs are intercepted.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { packObservations } from "../../durable-objects/health-store/packed";
import type { AuditContext } from "../../src/audit/event";
import { ConfigError, getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { DomainError } from "../../src/errors/domain-error";
import { configuredProviders, getProvidersConfig } from "../../src/providers/config";
import { findConnection, markConnectionStatus, saveConnection } from "../../src/providers/connections";
import type { ProviderDriver, SyncCursor } from "../../src/providers/driver";
import type { ProviderSyncMessage } from "../../src/providers/messages";
import { CONNECT_STARTS_PER_10_MINUTES } from "../../src/providers/routes";
import { syncContext } from "../../src/providers/sync/context";
import { syncConnection } from "../../src/providers/sync/sync";
import { tokenKeyringFor } from "../../src/providers/tokens";
import { FakeOura, heartRateSamples, OURA_API, TEST_DRIVER_CONTEXT, testOuraDriver } from "./helpers/fake-oura";
import { observationInput } from "./helpers/observations";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

const app = createTestApp();
const db = getDb(env.DB);
const keyring = await tokenKeyringFor(getConfig(env));
const SYSTEM: AuditContext = { actor: "test", role: "system", reason: null, requestId: null, ip: null };
const SANDBOX = env.SANDBOX_PROVIDER_ORIGIN;
const DAY_START = new Date("2026-11-01T00:00:00Z");
const DAY_END = new Date("2026-11-02T00:00:00Z");

/** The problem document of `res`, after checking its status and code. */
async function problem(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = await res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code });
  return body;
}

/** A SYNC queue that only records what it was sent. */
function recordingQueue(sent: unknown[]): Queue {
  return { send: async (body: unknown) => void sent.push(body), sendBatch: async () => undefined } as unknown as Queue;
}

afterEach(() => vi.restoreAllMocks());

describe("provider names that are Object.prototype keys", () => {
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

  it("are unknown providers on the browser pages: a 404 page, never a 500", async () => {
    for (const name of names) {
      for (const path of [`/oauth/${name}/connect?flow=x`, `/oauth/${name}/callback?state=x&code=y`]) {
        const res = await call(app, path);
        expect(res.status, path).toBe(404);
        expect(res.headers.get("content-type"), path).toMatch(/^text\/html/);
        expect(await res.text(), path).toContain("Pulse knows no provider by that name.");
      }
    }
  });

  it("are unknown providers to POST /v1/connections/:provider, with a string detail", async () => {
    const user = await createSessionUser();
    for (const name of names) {
      const res = await call(app, `/v1/connections/${name}`, { method: "POST", headers: user.headers });
      const body = await problem(res, 404, "NOT_FOUND");
      expect(body.detail, name).toBe("Pulse knows no provider by that name.");
    }
  });
});

describe("HEAD on the callback", () => {
  it("is refused (405) and leaves the flow usable", async () => {
    const user = await createSessionUser();
    const started = await call(app, "/v1/connections/sandbox", { method: "POST", headers: user.headers });
    const flow = new URL((await started.json<{ authorizeUrl: string }>()).authorizeUrl).searchParams.get("flow") ?? "";
    const head = await call(app, `/oauth/sandbox/callback?code=x&state=${encodeURIComponent(flow)}`, { method: "HEAD" });
    expect(head.status).toBe(405);
    expect(head.headers.get("Allow")).toBe("GET");
    // The flow was not taken: its confirmation page still shows.
    expect((await call(app, `/oauth/sandbox/connect?flow=${encodeURIComponent(flow)}`)).status).toBe(200);
  });
});

describe("starting flows in a loop", () => {
  it("is limited per user: 429 with Retry-After after the quota, other people unaffected", async () => {
    const user = await createSessionUser();
    const start = (who: SessionUser) => call(app, "/v1/connections/sandbox", { method: "POST", headers: who.headers });
    for (let i = 0; i < CONNECT_STARTS_PER_10_MINUTES; i++) expect((await start(user)).status).toBe(201);
    const refused = await start(user);
    await problem(refused, 429, "RATE_LIMITED");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await start(await createSessionUser())).status).toBe(201);
  });
});

describe("two connection flows of one person finishing one after the other", () => {
  /** The sandbox's token and profile endpoints; each code names the provider account it was issued for. */
  function sandboxAccounts(): void {
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      if (url.origin !== SANDBOX) throw new Error(`unexpected fetch to ${request.url}`);
      if (url.pathname === "/oauth/token") {
        const code = new URLSearchParams(await request.text()).get("code") ?? "";
        return Response.json({ access_token: `at:${code}`, refresh_token: `rt:${code}`, token_type: "Bearer", expires_in: 3600 });
      }
      if (url.pathname === "/v1/me") {
        const account = (request.headers.get("Authorization") ?? "").replace("Bearer at:", "");
        return Response.json({ user_id: account, time_zone: "Europe/Paris" });
      }
      return new Response(null, { status: url.pathname === "/oauth/revoke" ? 200 : 404 });
    });
  }

  async function confirmedFlow(user: SessionUser): Promise<{ flow: string; cookie: string }> {
    const started = await call(app, "/v1/connections/sandbox", { method: "POST", headers: user.headers });
    expect(started.status).toBe(201);
    const flow = new URL((await started.json<{ authorizeUrl: string }>()).authorizeUrl).searchParams.get("flow") ?? "";
    const confirmed = await call(app, "/oauth/sandbox/connect", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ flow, decision: "continue" }).toString(),
    });
    expect(confirmed.status).toBe(303);
    const cookie = confirmed.headers.getSetCookie().find((value) => value.startsWith("pulse_oauth_binding="));
    return { flow, cookie: cookie?.split(";")[0] ?? "" };
  }

  function finish(flow: { flow: string; cookie: string }, account: string): Promise<Response> {
    return call(app, `/oauth/sandbox/callback?code=${account}&state=${encodeURIComponent(flow.flow)}`, {
      headers: { Cookie: flow.cookie },
    });
  }

  it("does not swap the active connection to another provider account", async () => {
    sandboxAccounts();
    const user = await createSessionUser();
    const first = await confirmedFlow(user);
    const second = await confirmedFlow(user);
    const accountA = `sbx-a-${crypto.randomUUID()}`;
    expect((await finish(first, accountA)).status).toBe(200);

    const swapped = await finish(second, `sbx-b-${crypto.randomUUID()}`);
    expect(swapped.status).toBe(409);
    expect(await swapped.text()).toContain("disconnect it first");
    expect((await findConnection(db, user.user.id, "sandbox"))?.providerUserId).toBe(accountA);
  });

  it("still reconnects the same provider account", async () => {
    sandboxAccounts();
    const user = await createSessionUser();
    const first = await confirmedFlow(user);
    const second = await confirmedFlow(user);
    const account = `sbx-${crypto.randomUUID()}`;
    expect((await finish(first, account)).status).toBe(200);
    expect((await finish(second, account)).status).toBe(200);
    expect((await findConnection(db, user.user.id, "sandbox"))?.providerUserId).toBe(account);
  });
});

describe("the sandbox provider in production", () => {
  const production = () => ({
    ...env,
    ENVIRONMENT: "production",
    CORS_ORIGINS: "https://app.pulse-health.example",
    RP_ID: "pulse-health.example",
    JWT_ISSUER: "https://api.pulse-health.example",
  });

  it("is refused as a configuration error naming the setting", () => {
    const enabled = { ...production(), ENABLE_SANDBOX_PROVIDER: "true" } as unknown as Env;
    expect(() => getProvidersConfig(enabled)).toThrow(ConfigError);
    expect(() => getProvidersConfig(enabled)).toThrow(/ENABLE_SANDBOX_PROVIDER must be false in production/);
  });

  it("is never offered when only its credentials are configured", () => {
    const config = getProvidersConfig({ ...production(), ENABLE_SANDBOX_PROVIDER: "false" } as unknown as Env);
    expect(config.sandboxEnabled).toBe(false);
    expect(configuredProviders(config)).not.toContain("sandbox");
  });

  it("makes the webhook route fail closed, without naming a secret", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await call(
      app,
      "/webhooks/sandbox",
      { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } },
      { ...production(), ENABLE_SANDBOX_PROVIDER: "true" } as unknown as Partial<Env>,
    );
    const body = await problem(res, 500, "INTERNAL");
    expect(JSON.stringify(body)).not.toContain("ENABLE_SANDBOX_PROVIDER");
    expect(errors.mock.calls.map((args) => String(args[0])).join("\n")).toContain("ENABLE_SANDBOX_PROVIDER");
  });
});

describe("a sync racing a disconnect", () => {
  async function connectOura(samples: number): Promise<{ user: SessionUser; message: ProviderSyncMessage; oura: FakeOura }> {
    const oura = new FakeOura();
    const user = await createSessionUser();
    const account = `oura-${crypto.randomUUID()}`;
    oura.addAccount(account, heartRateSamples(new Date("2026-11-01T08:00:00Z"), samples));
    const saved = await saveConnection(
      { db, keyring },
      { userId: user.user.id, provider: "oura", providerUserId: account, tokens: oura.issue(account) },
      SYSTEM,
    );
    const message: ProviderSyncMessage = {
      type: "provider.sync",
      connectionId: saved.id,
      userId: user.user.id,
      provider: "oura",
      since: DAY_START.toISOString(),
      until: DAY_END.toISOString(),
      reason: "backfill",
    };
    return { user, message, oura };
  }

  async function heartRateCount(user: SessionUser): Promise<number> {
    const res = await call(
      app,
      `/v1/observations?metrics=heart_rate&since=${DAY_START.toISOString()}&until=${DAY_END.toISOString()}&limit=1000`,
      { headers: user.headers },
    );
    expect(res.status).toBe(200);
    return (await res.json<{ items: unknown[] }>()).items.length;
  }

  it("does not store the pages that were in flight when the person disconnected", async () => {
    const { user, message, oura } = await connectOura(10);
    let disconnected = false;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).origin !== OURA_API) throw new Error(`unexpected fetch to ${request.url}`);
      // The person disconnects while the provider is answering the second page.
      if (oura.dataRequests.length === 1 && !disconnected) {
        disconnected = true;
        await markConnectionStatus({ db, keyring }, user.user.id, "oura", { status: "revoked" }, SYSTEM);
      }
      return oura.handle(request);
    });
    const sent: unknown[] = [];
    const ctx = await syncContext(
      { ...env, SYNC: recordingQueue(sent) },
      { driverFor: () => testOuraDriver, driverContext: () => TEST_DRIVER_CONTEXT },
    );
    const result = await syncConnection(ctx, message, { maxPages: 10, maxMillis: 60_000 });
    expect(result.outcome).toBe("skipped");
    expect(result.pages).toBeGreaterThanOrEqual(2);
    // Pages are stored together: those fetched around the disconnect reached the store, which found
    // the connection revoked and stored none of them.
    expect(await heartRateCount(user)).toBe(0);
    expect(sent).toEqual([]);
  });

  it("fails a provider that hands back the same page token instead of looping forever", async () => {
    const { user, message } = await connectOura(1);
    const stuck: SyncCursor = { windowStart: DAY_START.toISOString(), pageToken: "same", dataType: null };
    let calls = 0;
    const driver: ProviderDriver = {
      ...testOuraDriver,
      fetchRange: async () => {
        calls++;
        return { records: [], next: stuck };
      },
    };
    const sent: unknown[] = [];
    const ctx = await syncContext(
      { ...env, SYNC: recordingQueue(sent) },
      { driverFor: () => driver, driverContext: () => TEST_DRIVER_CONTEXT },
    );
    const failure = await syncConnection(ctx, message, { maxPages: 25, maxMillis: 60_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DomainError);
    expect((failure as DomainError).code).toBe("PROVIDER_FAILED");
    expect(calls).toBe(2);
    expect(sent).toEqual([]);
    const row = await findConnection(db, user.user.id, "oura");
    expect(row?.lastErrorCode).toBe("PROVIDER_FAILED");
  });

  it("data=delete also removes what a sync stored while the provider was being told", async () => {
    const user = await createSessionUser();
    await saveConnection(
      { db, keyring },
      {
        userId: user.user.id,
        provider: "sandbox",
        providerUserId: `sbx-${crypto.randomUUID()}`,
        tokens: {
          accessToken: "at-x",
          refreshToken: "rt-x",
          accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
          scopes: null,
        },
      },
      SYSTEM,
    );
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    const sample = (minute: number) =>
      observationInput("heart_rate", "bpm", DAY_START.getTime() + minute * 60_000, 70, {
        sourceKind: "provider",
        sourceApp: "sandbox",
        sourceRecordId: `heart_rate:${minute}`,
        version: 0,
      });
    const audit = { ...SYSTEM, subject: user.user.id };
    await store.ingestBatch({ observations: packObservations([sample(1)]) }, audit);
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      if (url.origin !== SANDBOX || url.pathname !== "/oauth/revoke") throw new Error(`unexpected fetch to ${request.url}`);
      // A backfill page lands after the data was deleted and before the connection is revoked.
      await store.ingestBatch({ observations: packObservations([sample(2)]) }, audit);
      return new Response(null, { status: 200 });
    });
    const res = await call(app, "/v1/connections/sandbox?data=delete", { method: "DELETE", headers: user.headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "revoked", dataDeleted: { observations: 2 } });
    expect(await heartRateCount(user)).toBe(0);
  });
});
