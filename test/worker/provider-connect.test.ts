// The provider connection flow end to end in workerd: the real app, D1, the OAuthState and
// HealthStore Durable Objects, with only the sandbox provider's HTTP API answered by a `fetch`
// interceptor (shapes of tools/sandbox-provider: RFC 6749 token responses, `GET /v1/me`).
import { createExecutionContext, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { StoreAuditContext } from "../../durable-objects/health-store/schema";
import { getConfig } from "../../src/config/config";
import { getDb } from "../../src/db/client";
import { findConnection, markConnectionStatus } from "../../src/providers/connections";
import { tokenKeyringFor } from "../../src/providers/tokens";
import { observationInput } from "./helpers/observations";
import { expectProblem } from "./helpers/security-cases";
import { createSessionUser, type SessionUser } from "./helpers/session-user";
import { call, createTestApp } from "./helpers/test-app";

const app = createTestApp();
// The sandbox provider's configured origin, answered here by an interceptor so each test controls
// the provider's answers (the real sandbox server runs the whole flow in provider-e2e.test.ts).
const PROVIDER = env.SANDBOX_PROVIDER_ORIGIN;
const DAY_MS = 86_400_000;

/** Everything the app enqueued on SYNC during a test. */
let sent: unknown[] = [];
/** Set to make SYNC refuse every message, as a queue that is unavailable does. */
let syncRefuses = false;
const SYNC = {
  async send(body: unknown) {
    if (syncRefuses) throw new Error("Queue send failed: internal error");
    sent.push(body);
  },
  async sendBatch(messages: Iterable<{ body: unknown }>) {
    for (const message of messages) sent.push(message.body);
  },
} as unknown as Queue;

// Only the sandbox is offered to these tests (the shared test configuration also names the real
// providers, for the webhook tests), so "not configured here" has a provider to show it with.
const SANDBOX_ONLY = JSON.stringify({ sandbox: JSON.parse(env.PROVIDER_CREDENTIALS).sandbox });

function request(path: string, init: RequestInit = {}): Promise<Response> {
  return call(app, path, init, { SYNC, PROVIDER_CREDENTIALS: SANDBOX_ONLY });
}

interface SandboxOptions {
  providerUserId?: string;
  tokenStatus?: number;
  revokeStatus?: number;
}

interface Sandbox {
  /** Every request the app sent the provider. */
  requests: { method: string; url: URL; form: URLSearchParams; authorization: string | null }[];
  /** Every token the provider issued: none may ever appear in a response. */
  issued: string[];
}

/** The sandbox provider's token, revoke and profile endpoints. */
function sandboxProvider(options: SandboxOptions = {}): Sandbox {
  const sandbox: Sandbox = { requests: [], issued: [] };
  const providerUserId = options.providerUserId ?? `sbx-${crypto.randomUUID()}`;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.origin !== PROVIDER) throw new Error(`unexpected fetch to ${url.origin}`);
    const form = new URLSearchParams(await req.text());
    sandbox.requests.push({ method: req.method, url, form, authorization: req.headers.get("Authorization") });
    if (url.pathname === "/oauth/token") {
      if (options.tokenStatus) return Response.json({ error: "server_error" }, { status: options.tokenStatus });
      const accessToken = `at-${crypto.randomUUID()}`;
      const refreshToken = `rt-${crypto.randomUUID()}`;
      sandbox.issued.push(accessToken, refreshToken);
      return Response.json({
        access_token: accessToken,
        refresh_token: refreshToken,
        token_type: "Bearer",
        expires_in: 3600,
        scope: "heart_rate sleep workouts",
      });
    }
    if (url.pathname === "/v1/me") return Response.json({ user_id: providerUserId, time_zone: "Europe/Paris" });
    if (url.pathname === "/oauth/revoke") return new Response(null, { status: options.revokeStatus ?? 200 });
    return new Response("not found", { status: 404 });
  });
  return sandbox;
}

function json(user: SessionUser, method: string, path: string, body?: unknown): Promise<Response> {
  return request(path, {
    method,
    headers: { ...user.headers, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function startFlow(user: SessionUser, body: unknown = {}): Promise<string> {
  const res = await json(user, "POST", "/v1/connections/sandbox", body);
  expect(res.status, await res.clone().text()).toBe(201);
  const { authorizeUrl } = await res.json<{ authorizeUrl: string }>();
  const flow = new URL(authorizeUrl).searchParams.get("flow");
  if (!flow) throw new Error("no flow in authorizeUrl");
  return flow;
}

function confirm(flow: string, headers: Record<string, string> = { Origin: "http://localhost" }, decision = "continue") {
  return request("/oauth/sandbox/connect", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ flow, decision }).toString(),
  });
}

/** The `name=value` of the binding cookie a response set. */
function bindingCookie(res: Response): string {
  const cookie = res.headers.getSetCookie().find((value) => value.startsWith("pulse_oauth_binding="));
  if (!cookie) throw new Error("no binding cookie set");
  return cookie.split(";")[0] ?? "";
}

async function confirmed(user: SessionUser, body: unknown = {}): Promise<{ flow: string; cookie: string }> {
  const flow = await startFlow(user, body);
  const res = await confirm(flow);
  expect(res.status).toBe(303);
  return { flow, cookie: bindingCookie(res) };
}

function callback(flow: string, cookie: string | null, query = "code=auth-code-1"): Promise<Response> {
  return request(`/oauth/sandbox/callback?${query}&state=${encodeURIComponent(flow)}`, {
    headers: cookie === null ? {} : { Cookie: cookie },
  });
}

async function connect(user: SessionUser, body: unknown = {}): Promise<Response> {
  const { flow, cookie } = await confirmed(user, body);
  return callback(flow, cookie);
}

interface Overview {
  connections: { provider: string; status: string; scopes: string[]; lastSyncAt: string | null; lastError: unknown }[];
  available: { provider: string; displayName: string; connected: boolean }[];
  unavailable: { provider: string; reason: string }[];
}

async function overview(user: SessionUser): Promise<Overview> {
  const res = await json(user, "GET", "/v1/connections");
  expect(res.status).toBe(200);
  return res.json<Overview>();
}

beforeEach(() => {
  sent = [];
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("connecting a provider", () => {
  it("runs the whole flow: start, confirmation page, confirm, provider, callback, listed, backfill queued", async () => {
    const sandbox = sandboxProvider();
    const user = await createSessionUser();
    const bodies: string[] = [];

    const started = await json(user, "POST", "/v1/connections/sandbox");
    expect(started.status).toBe(201);
    const { authorizeUrl, expiresAt } = await started.json<{ authorizeUrl: string; expiresAt: string }>();
    bodies.push(JSON.stringify({ authorizeUrl, expiresAt }));
    const link = new URL(authorizeUrl);
    expect(`${link.origin}${link.pathname}`).toBe("http://localhost:8787/oauth/sandbox/connect");
    const flow = link.searchParams.get("flow") ?? "";
    expect(flow).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(590_000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);

    const page = await request(`/oauth/sandbox/connect?flow=${flow}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(page.headers.get("Cache-Control")).toBe("no-store");
    const csp = page.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain(`form-action 'self' ${PROVIDER}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("script-src");
    const html = await page.text();
    bodies.push(html);
    expect(html).toContain("Test User");
    expect(html).toContain(user.user.username);
    expect(html).toContain("Continue to Pulse sandbox");
    expect(html).toContain('action="/oauth/sandbox/connect"');
    expect(html).toContain("Cancel");
    // Its one stylesheet is served from this origin, as the CSP's style-src 'self' allows.
    expect(html).toContain('<link rel="stylesheet" href="/oauth/style.css">');
    const style = await request("/oauth/style.css");
    expect(style.status).toBe(200);
    expect(style.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(await style.text()).toContain(".facts");

    const confirmedRes = await confirm(flow);
    expect(confirmedRes.status).toBe(303);
    const cookieHeader = confirmedRes.headers.getSetCookie().join("\n");
    expect(cookieHeader).toMatch(/^pulse_oauth_binding=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/oauth\/; HttpOnly; SameSite=Lax$/);
    const toProvider = new URL(confirmedRes.headers.get("Location") ?? "");
    expect(`${toProvider.origin}${toProvider.pathname}`).toBe(`${PROVIDER}/oauth/authorize`);
    expect(toProvider.searchParams.get("state")).toBe(flow);
    expect(toProvider.searchParams.get("redirect_uri")).toBe("http://localhost:8787/oauth/sandbox/callback");
    expect(toProvider.searchParams.get("code_challenge_method")).toBe("S256");

    const done = await callback(flow, bindingCookie(confirmedRes));
    expect(done.status).toBe(200);
    const donePage = await done.text();
    bodies.push(donePage);
    expect(donePage).toContain("Pulse sandbox connected");
    expect(done.headers.getSetCookie().join("\n")).toMatch(/^pulse_oauth_binding=; Max-Age=0; Path=\/oauth\//);

    // The code was exchanged with the flow's PKCE verifier, which matches the challenge sent.
    const tokenRequest = sandbox.requests.find((r) => r.url.pathname === "/oauth/token");
    expect(tokenRequest?.form.get("code")).toBe("auth-code-1");
    const verifier = tokenRequest?.form.get("code_verifier") ?? "";
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const challenge = btoa(String.fromCharCode(...digest))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    expect(toProvider.searchParams.get("code_challenge")).toBe(challenge);

    const listed = await json(user, "GET", "/v1/connections");
    const listedText = await listed.text();
    bodies.push(listedText);
    const list = JSON.parse(listedText) as Overview & { connections: Record<string, unknown>[] };
    expect(list.connections).toEqual([
      {
        provider: "sandbox",
        displayName: "Pulse sandbox",
        status: "active",
        scopes: ["heart_rate", "sleep", "workouts"],
        connectedAt: expect.any(String),
        lastSyncAt: null,
        lastError: null,
      },
    ]);
    expect(list.available).toEqual([{ provider: "sandbox", displayName: "Pulse sandbox", connected: true }]);
    expect(list.unavailable).toEqual([{ provider: "garmin", reason: expect.stringContaining("Garmin") }]);

    // One backfill over the sandbox's documented window (90 days), naming the connection.
    const row = await findConnection(getDb(env.DB), user.user.id, "sandbox");
    expect(sent).toHaveLength(1);
    const message = sent[0] as Record<string, string>;
    expect(message).toMatchObject({
      type: "provider.sync",
      connectionId: row?.id,
      userId: user.user.id,
      provider: "sandbox",
      reason: "backfill",
    });
    expect(Date.parse(message.until ?? "") - Date.parse(message.since ?? "")).toBe(90 * DAY_MS);

    // Tokens are sealed in D1 and never in anything a person or an app sees.
    expect(sandbox.issued).toHaveLength(2);
    for (const token of sandbox.issued) {
      for (const body of bodies) expect(body).not.toContain(token);
      expect(row?.accessTokenCiphertext ?? "").not.toContain(token);
    }
  });

  it("sends the person back to an allowed returnTo with ?connected=<provider>", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    const res = await connect(user, { returnTo: "https://app.pulse.example/settings?tab=providers" });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("https://app.pulse.example/settings?tab=providers&connected=sandbox");
  });

  it("refuses every returnTo outside the allow-list (no open redirect)", async () => {
    const user = await createSessionUser();
    for (const returnTo of [
      "https://evil.example/",
      "//evil.example/path",
      "javascript:alert(1)",
      "https://localhost:8787@evil.example/",
      "http://localhost:8787@evil.example/",
      "https://app.pulse.example@evil.example/",
      "https://user:pw@app.pulse.example/",
      "http://localhost:8788/",
      "https://localhost:8787/",
      "http://app.pulse.example/",
      "https://app.pulse.example.evil.example/",
      "https:\\\\evil.example",
      "/app",
      "data:text/html,hi",
    ]) {
      const res = await json(user, "POST", "/v1/connections/sandbox", { returnTo });
      expect(res.status, returnTo).toBe(400);
      const problem = await res.json<{ code: string; errors: { path: string }[] }>();
      expect(problem.code).toBe("VALIDATION_FAILED");
      expect(problem.errors.map((e) => e.path)).toEqual(["returnTo"]);
    }
    const allowed = await json(user, "POST", "/v1/connections/sandbox", { returnTo: "http://localhost:8787/app" });
    expect(allowed.status).toBe(201);
  });

  it("answers 404 for unknown, unavailable and unconfigured providers, 400 for unknown fields", async () => {
    const user = await createSessionUser();
    await expectProblem(await json(user, "POST", "/v1/connections/fitbitz"), 404, "NOT_FOUND");
    const garmin = await json(user, "POST", "/v1/connections/garmin");
    expect(garmin.status).toBe(404);
    expect((await garmin.json<{ detail: string }>()).detail).toMatch(/Garmin.*not admitting/);
    await expectProblem(await json(user, "POST", "/v1/connections/oura"), 404, "NOT_FOUND");
    await expectProblem(await json(user, "POST", "/v1/connections/sandbox", { returnTo: 5 }), 400, "VALIDATION_FAILED");
    await expectProblem(await json(user, "POST", "/v1/connections/sandbox", { extra: true }), 400, "VALIDATION_FAILED");
  });

  it("answers 409 while connected and active, and lets a reauth_required connection reconnect", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    expect((await connect(user)).status).toBe(200);
    await expectProblem(await json(user, "POST", "/v1/connections/sandbox"), 409, "CONFLICT");

    const db = getDb(env.DB);
    const keyring = await tokenKeyringFor(getConfig(env));
    await markConnectionStatus(
      { db, keyring },
      user.user.id,
      "sandbox",
      { status: "reauth_required", error: { code: "invalid_grant", message: "Reconnect" } },
      {
        actor: "test",
        role: "system",
        reason: null,
        requestId: null,
        ip: null,
      },
    );
    const before = await findConnection(db, user.user.id, "sandbox");
    expect((await connect(user)).status).toBe(200);
    const after = await findConnection(db, user.user.id, "sandbox");
    expect(after?.id).toBe(before?.id);
    expect(after?.status).toBe("active");
  });
});

async function expectPage(res: Response, status: number, text: RegExp): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
  const html = await res.text();
  expect(html).toMatch(text);
  return html;
}

async function expectNothingStored(user: SessionUser, sandbox: Sandbox): Promise<void> {
  expect((await overview(user)).connections).toEqual([]);
  expect(sandbox.requests.filter((r) => r.url.pathname === "/oauth/token")).toEqual([]);
  expect(sent).toEqual([]);
}

describe("the flow's CSRF defences (RFC 9700 §4.7)", () => {
  it("accepts a state once: a replayed callback is refused and still one connection exists", async () => {
    const sandbox = sandboxProvider();
    const user = await createSessionUser();
    const { flow, cookie } = await confirmed(user);
    expect((await callback(flow, cookie)).status).toBe(200);
    await expectPage(await callback(flow, cookie), 400, /expired or was already completed/);
    expect((await overview(user)).connections).toHaveLength(1);
    expect(sandbox.requests.filter((r) => r.url.pathname === "/oauth/token")).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });

  it("refuses an expired flow at the confirmation page and at the callback", async () => {
    const sandbox = sandboxProvider();
    const user = await createSessionUser();
    const { flow, cookie } = await confirmed(user);
    // Ten minutes pass: the stored entry's deadline moves into the past.
    await runInDurableObject(env.OAUTH_STATE.getByName(flow), async (_instance, state) => {
      const entry = state.storage.kv.get<{ expiresAt: number }>("entry");
      if (!entry) throw new Error("no flow stored");
      state.storage.kv.put("entry", { ...entry, expiresAt: Date.now() - 1 });
    });
    await expectPage(await request(`/oauth/sandbox/connect?flow=${flow}`), 400, /expired or was already used/);
    await expectPage(await confirm(flow), 400, /expired or was already used/);
    await expectPage(await callback(flow, cookie), 400, /Start again from the Pulse app/);
    await expectNothingStored(user, sandbox);
  });

  it("refuses a callback in another browser: no cookie, a wrong cookie, or an unconfirmed flow", async () => {
    const sandbox = sandboxProvider();
    const user = await createSessionUser();
    const first = await confirmed(user);
    await expectPage(await callback(first.flow, null), 400, /Finish in the same browser/);
    const second = await confirmed(user);
    await expectPage(
      await callback(second.flow, "pulse_oauth_binding=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
      400,
      /same browser/,
    );
    // Someone skips the confirmation page and sends the provider link straight to the victim.
    const skipped = await startFlow(user);
    await expectPage(await callback(skipped, second.cookie), 400, /same browser/);
    await expectNothingStored(user, sandbox);
  });

  it("refuses user A's flow finished with user B's cookie, and leaves B's own flow working", async () => {
    const sandbox = sandboxProvider();
    const a = await createSessionUser();
    const b = await createSessionUser();
    const flowA = await confirmed(a);
    const flowB = await confirmed(b);
    await expectPage(await callback(flowA.flow, flowB.cookie), 400, /same browser/);
    await expectNothingStored(a, sandbox);
    await expectNothingStored(b, sandbox);
    expect((await callback(flowB.flow, flowB.cookie)).status).toBe(200);
    expect((await overview(b)).connections).toHaveLength(1);
    expect((await overview(a)).connections).toEqual([]);
  });

  it("refuses a confirmation posted from another site, setting no cookie", async () => {
    const user = await createSessionUser();
    const flow = await startFlow(user);
    for (const headers of [
      { "Sec-Fetch-Site": "cross-site", Origin: "https://evil.example" },
      { "Sec-Fetch-Site": "same-site", Origin: "http://localhost" },
      { "Sec-Fetch-Site": "none" },
      { Origin: "https://evil.example" },
      { Origin: "null" },
      {},
    ] as Record<string, string>[]) {
      const res = await confirm(flow, headers);
      await expectPage(res, 403, /another website/);
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    const ok = await confirm(flow, { "Sec-Fetch-Site": "same-origin" });
    expect(ok.status).toBe(303);
  });

  it("refuses a provider the path names but the flow is not for, without using the flow up", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    const { flow, cookie } = await confirmed(user);
    await expectPage(
      await request(`/oauth/oura/callback?code=x&state=${flow}`, { headers: { Cookie: cookie } }),
      404,
      /cannot be connected yet|not offered/,
    );
    await expectPage(await request(`/oauth/garmin/connect?flow=${flow}`), 404, /Garmin/);
    await expectPage(await request(`/oauth/nope/callback?code=x&state=${flow}`), 404, /no provider/);
    expect((await callback(flow, cookie)).status).toBe(200);
  });

  it("answers garbage flows and callbacks with pages, never a 500", async () => {
    sandboxProvider();
    await expectPage(await request("/oauth/sandbox/connect"), 400, /expired or was already used/);
    await expectPage(await request("/oauth/sandbox/connect?flow=%3Cscript%3E"), 400, /expired/);
    await expectPage(await request("/oauth/sandbox/callback"), 400, /without the connection/);
    await expectPage(await request("/oauth/sandbox/callback?state=x&code=y"), 400, /expired/);
    const form = await request("/oauth/sandbox/connect", {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: "http://localhost" },
      body: "{}",
    });
    expect(form.status).toBe(415);
  });

  it("says so when the person declines at the provider, and stores nothing", async () => {
    const sandbox = sandboxProvider();
    const user = await createSessionUser();
    const { flow, cookie } = await confirmed(user);
    await expectPage(await callback(flow, cookie, "error=access_denied"), 200, /You declined/);
    await expectNothingStored(user, sandbox);
    await expectPage(await callback(flow, cookie), 400, /expired/);
  });

  it("tells the app a declined consent through returnTo?error=access_denied, in the confirming browser only", async () => {
    const sandbox = sandboxProvider();
    const user = await createSessionUser();
    const returnTo = "https://app.pulse.example/settings";
    const { flow, cookie } = await confirmed(user, { returnTo });
    const declined = await callback(flow, cookie, "error=access_denied");
    expect(declined.status).toBe(303);
    expect(declined.headers.get("Location")).toBe(`${returnTo}?error=access_denied`);
    await expectNothingStored(user, sandbox);

    // Another browser learns nothing of where the app lives: the binding is checked first.
    const other = await confirmed(user, { returnTo });
    await expectPage(await callback(other.flow, null, "error=access_denied"), 400, /same browser/);
  });

  it("uses a Secure __Host- cookie over https", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    const flow = await startFlow(user);
    const https = (path: string, init: RequestInit) =>
      Promise.resolve(app.request(`https://localhost${path}`, init, { ...env, SYNC }, createExecutionContext()));
    const res = await https("/oauth/sandbox/connect", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ flow, decision: "continue" }).toString(),
    });
    expect(res.status).toBe(303);
    const [set = ""] = res.headers.getSetCookie();
    const attributes = set.split("; ");
    expect(attributes[0]).toMatch(/^__Host-pulse_oauth_binding=[A-Za-z0-9_-]{43}$/);
    expect(attributes.slice(1).sort()).toEqual(["HttpOnly", "Max-Age=600", "Path=/", "SameSite=Lax", "Secure"]);
    const secret = (attributes[0] ?? "").split("=")[1] ?? "";
    // The unprefixed name, which any http page of a sibling host could plant, is not read over https.
    const planted = await https(`/oauth/sandbox/callback?code=c&state=${flow}`, {
      headers: { Cookie: `pulse_oauth_binding=${secret}` },
    });
    expect(planted.status).toBe(400);
    expect((await overview(user)).connections).toEqual([]);
  });

  it("finishes over https with the __Host- cookie", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    const flow = await startFlow(user);
    const https = (path: string, init: RequestInit) =>
      Promise.resolve(app.request(`https://localhost${path}`, init, { ...env, SYNC }, createExecutionContext()));
    const res = await https("/oauth/sandbox/connect", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin" },
      body: new URLSearchParams({ flow, decision: "continue" }).toString(),
    });
    const cookie = (res.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
    const done = await https(`/oauth/sandbox/callback?code=c&state=${flow}`, { headers: { Cookie: cookie } });
    expect(done.status).toBe(200);
    expect(done.headers.getSetCookie()[0]).toMatch(/^__Host-pulse_oauth_binding=;.*Max-Age=0/);
    expect((await overview(user)).connections).toHaveLength(1);
  });

  it("lets the person cancel on the confirmation page and sends them back", async () => {
    const user = await createSessionUser();
    const flow = await startFlow(user, { returnTo: "https://app.pulse.example/" });
    const res = await confirm(flow, { Origin: "http://localhost" }, "cancel");
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("https://app.pulse.example/?error=cancelled");
    await expectPage(await confirm(flow), 400, /expired/);
  });

  it("shows a 502 page naming no token when the provider fails the exchange", async () => {
    const sandbox = sandboxProvider({ tokenStatus: 500 });
    const user = await createSessionUser();
    const { flow, cookie } = await confirmed(user);
    await expectPage(await callback(flow, cookie), 502, /did not answer/);
    expect((await overview(user)).connections).toEqual([]);
    expect(sandbox.requests.filter((r) => r.url.pathname === "/oauth/token")).toHaveLength(1);
    expect(sent).toEqual([]);
  });

  it("refuses a provider account already linked to another Pulse account (409 page)", async () => {
    sandboxProvider({ providerUserId: `shared-${crypto.randomUUID()}` });
    const a = await createSessionUser();
    const b = await createSessionUser();
    expect((await connect(a)).status).toBe(200);
    await expectPage(await connect(b), 409, /already connected to another Pulse account/);
    expect((await overview(b)).connections).toEqual([]);
    expect((await overview(a)).connections).toHaveLength(1);
  });
});

const at = (iso: string) => Date.parse(iso);
const system = (userId: string): StoreAuditContext => ({
  actor: "etl",
  role: "system",
  subject: userId,
  reason: null,
  requestId: null,
  ip: null,
});

/** The same day's data from the phone (an upload) and from the sandbox provider. */
async function seedData(userId: string): Promise<void> {
  const provider = { sourceKind: "provider", sourceApp: "sandbox" } as const;
  await healthStoreFor(env.HEALTH_STORE, userId).ingestBatch(
    {
      observations: [
        observationInput("heart_rate", "bpm", at("2026-01-15T08:05:00Z"), 60),
        observationInput("heart_rate", "bpm", at("2026-01-15T08:10:00Z"), 80),
        observationInput("steps", "count", at("2026-01-15T08:00:00Z"), 1000),
        observationInput("heart_rate", "bpm", at("2026-01-15T08:06:00Z"), 100, { ...provider, sourceRecordId: "hr:1" }),
        observationInput("heart_rate", "bpm", at("2026-01-15T08:40:00Z"), 120, { ...provider, sourceRecordId: "hr:2" }),
        observationInput("steps", "count", at("2026-01-15T08:01:00Z"), 5000, { ...provider, sourceRecordId: "steps:1" }),
      ],
      sleepSessions: [
        {
          ...provider,
          version: 1,
          zoneOffsetSeconds: 0,
          sourceRecordId: "sleep:1",
          start: at("2026-01-14T23:00:00Z"),
          end: at("2026-01-15T06:00:00Z"),
          localDate: "2026-01-15",
          stages: [{ stage: "deep", start: at("2026-01-14T23:00:00Z"), end: at("2026-01-15T01:00:00Z") }],
        },
      ],
      workouts: [
        {
          ...provider,
          version: 1,
          zoneOffsetSeconds: 0,
          sourceRecordId: "workout:1",
          exerciseType: "running",
          start: at("2026-01-15T17:00:00Z"),
          end: at("2026-01-15T17:30:00Z"),
          localDate: "2026-01-15",
        },
      ],
    },
    system(userId),
  );
}

const DAY_RANGE = "since=2026-01-15T00:00:00Z&until=2026-01-16T00:00:00Z";

describe("DELETE /v1/connections/:provider", () => {
  it("revokes at the provider, deletes the tokens and keeps the data by default", async () => {
    const sandbox = sandboxProvider();
    const user = await createSessionUser();
    await connect(user);
    await seedData(user.user.id);

    const res = await json(user, "DELETE", "/v1/connections/sandbox");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ provider: "sandbox", status: "revoked", revokedAtProvider: true, dataDeleted: null });
    // RFC 7009: the provider is asked to revoke a token it issued for this connection.
    const revoke = sandbox.requests.find((r) => r.url.pathname === "/oauth/revoke");
    expect(sandbox.issued).toContain(revoke?.form.get("token"));

    expect((await overview(user)).connections).toEqual([]);
    expect((await overview(user)).available).toEqual([{ provider: "sandbox", displayName: "Pulse sandbox", connected: false }]);
    const row = await env.DB.prepare(
      "SELECT status, access_token_ciphertext, refresh_token_ciphertext FROM connections WHERE user_id = ?",
    )
      .bind(user.user.id)
      .first();
    expect(row).toEqual({ status: "revoked", access_token_ciphertext: null, refresh_token_ciphertext: null });
    const raw = await json(user, "GET", `/v1/observations?metrics=heart_rate&${DAY_RANGE}`);
    expect((await raw.json<{ items: unknown[] }>()).items).toHaveLength(4);
    await expectProblem(await json(user, "DELETE", "/v1/connections/sandbox"), 404, "NOT_FOUND");
  });

  it("with data=delete removes the provider's observations, sleep and workouts, and the summaries stop counting them", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    await connect(user);
    await seedData(user.user.id);
    const hourly = `/v1/observations?metrics=heart_rate,steps&resolution=hour&since=2026-01-15T08:00:00Z&until=2026-01-15T09:00:00Z`;
    const before = await (await json(user, "GET", hourly)).json<{ items: Record<string, unknown>[] }>();
    expect(before.items).toMatchObject([
      { metric: "heart_rate", count: 4, min: 60, max: 120 },
      { metric: "steps", count: 2 },
    ]);

    const res = await json(user, "DELETE", "/v1/connections/sandbox?data=delete");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      provider: "sandbox",
      status: "revoked",
      revokedAtProvider: true,
      dataDeleted: { observations: 3, sleepSessions: 1, workouts: 1 },
    });

    const raw = await (await json(user, "GET", `/v1/observations?metrics=heart_rate,steps&${DAY_RANGE}`)).json<{
      items: { sourceApp?: string; source?: unknown; value: number }[];
    }>();
    expect(raw.items.map((item) => item.value).sort((x, y) => x - y)).toEqual([60, 80, 1000]);
    const after = await (await json(user, "GET", hourly)).json<{ items: Record<string, unknown>[] }>();
    expect(after.items).toEqual([
      {
        metric: "heart_rate",
        start: "2026-01-15T08:00:00.000Z",
        end: "2026-01-15T09:00:00.000Z",
        avg: 70,
        min: 60,
        max: 80,
        count: 2,
        unit: "bpm",
      },
      {
        metric: "steps",
        start: "2026-01-15T08:00:00.000Z",
        end: "2026-01-15T09:00:00.000Z",
        avg: 1000,
        min: 1000,
        max: 1000,
        count: 1,
        sum: 1000,
        unit: "count",
      },
    ]);
    const summary = await (await json(user, "GET", "/v1/summary/daily?date=2026-01-15")).json<Record<string, unknown>>();
    expect(summary).toMatchObject({
      steps: 1000,
      heartRate: { avg: 70, min: 60, max: 80, count: 2 },
      sleep: { sessions: 0 },
      workouts: { count: 0, durationSeconds: 0 },
    });
    const sleep = await (await json(user, "GET", `/v1/sleep?${DAY_RANGE}`)).json<{ items: unknown[] }>();
    expect(sleep.items).toEqual([]);
    const workouts = await (await json(user, "GET", `/v1/workouts?${DAY_RANGE}`)).json<{ items: unknown[] }>();
    expect(workouts.items).toEqual([]);

    // The rollups equal a recomputation from the samples that remain.
    const rollups = await runInDurableObject(healthStoreFor(env.HEALTH_STORE, user.user.id).stub, (_instance, state) => {
      const sql = state.storage.sql;
      const kept = sql
        .exec("SELECT metric, slot, sample_count, value_sum, value_min, value_max FROM observation_rollups ORDER BY metric, slot")
        .toArray();
      const fresh = sql
        .exec(
          `SELECT metric, start_ms / 900000 AS slot, COUNT(*) AS sample_count, SUM(value) AS value_sum, MIN(value) AS value_min,
             MAX(value) AS value_max FROM observations WHERE flagged = 0 GROUP BY metric, start_ms / 900000 ORDER BY metric, slot`,
        )
        .toArray();
      return { kept, fresh };
    });
    expect(rollups.kept).toEqual(rollups.fresh);
    expect(rollups.kept).toHaveLength(2);

    // The deletion is in the store's own audit chain, which still verifies.
    const store = healthStoreFor(env.HEALTH_STORE, user.user.id);
    const log = await store.accessLog({});
    expect(log.items.map((event) => event.action)).toContain("observations.delete");
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it("still disconnects when the provider fails to revoke, and says so", async () => {
    sandboxProvider({ revokeStatus: 503 });
    const user = await createSessionUser();
    await connect(user);
    const res = await json(user, "DELETE", "/v1/connections/sandbox");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "revoked", revokedAtProvider: false });
    expect((await overview(user)).connections).toEqual([]);
  });

  it("answers 400 for another data value and 404 when not connected", async () => {
    const user = await createSessionUser();
    await expectProblem(await json(user, "DELETE", "/v1/connections/sandbox?data=everything"), 400, "VALIDATION_FAILED");
    await expectProblem(await json(user, "DELETE", "/v1/connections/sandbox"), 404, "NOT_FOUND");
    await expectProblem(await json(user, "DELETE", "/v1/connections/nope"), 404, "NOT_FOUND");
  });
});

describe("POST /v1/connections/:provider/sync", () => {
  it("answers 503 with Retry-After while the SYNC queue refuses, and queues once it is back", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    await connect(user);
    sent = [];
    syncRefuses = true;
    try {
      const refused = await json(user, "POST", "/v1/connections/sandbox/sync");
      await expectProblem(refused, 503, "SERVICE_UNAVAILABLE");
      expect(refused.headers.get("Retry-After")).toBe("5");
    } finally {
      syncRefuses = false;
    }
    expect(sent).toEqual([]);
    expect((await json(user, "POST", "/v1/connections/sandbox/sync")).status).toBe(202);
    expect(sent).toHaveLength(1);
  });

  it("queues a manual sync: by default since the backfill window, or the range asked for", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    await connect(user);
    sent = [];
    const res = await json(user, "POST", "/v1/connections/sandbox/sync");
    expect(res.status).toBe(202);
    const range = await res.json<{ provider: string; since: string; until: string }>();
    expect(range.provider).toBe("sandbox");
    expect(Date.parse(range.until) - Date.parse(range.since)).toBe(90 * DAY_MS);
    expect(Math.abs(Date.parse(range.until) - Date.now())).toBeLessThan(60_000);
    expect(sent).toEqual([
      expect.objectContaining({
        type: "provider.sync",
        provider: "sandbox",
        reason: "manual",
        since: range.since,
        until: range.until,
      }),
    ]);

    const explicit = await json(user, "POST", "/v1/connections/sandbox/sync", {
      since: "2026-01-01T00:00:00Z",
      until: "2026-01-15T00:00:00+01:00",
    });
    expect(explicit.status).toBe(202);
    expect(await explicit.json()).toEqual({
      provider: "sandbox",
      since: "2026-01-01T00:00:00.000Z",
      until: "2026-01-14T23:00:00.000Z",
    });
    expect(sent).toHaveLength(2);
  });

  it("starts a day before the last sync when there was one", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    await connect(user);
    const lastSync = new Date(Date.now() - 3 * DAY_MS);
    await env.DB.prepare("UPDATE connections SET last_sync_at = ? WHERE user_id = ?")
      .bind(lastSync.getTime(), user.user.id)
      .run();
    const range = await (await json(user, "POST", "/v1/connections/sandbox/sync")).json<{ since: string }>();
    expect(range.since).toBe(new Date(lastSync.getTime() - DAY_MS).toISOString());
  });

  it("refuses ranges Pulse cannot fetch with the field at fault", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    await connect(user);
    sent = [];
    const cases: [unknown, string][] = [
      [{ since: "2026-01-02T00:00:00Z", until: "2026-01-01T00:00:00Z" }, "since"],
      [{ since: "2026-01-01T00:00:00Z", until: "2026-01-01T00:00:00Z" }, "since"],
      [{ since: "2024-01-01T00:00:00Z", until: "2026-01-01T00:00:00Z" }, "since"],
      [{ until: new Date(Date.now() + 2 * DAY_MS).toISOString() }, "until"],
      [{ since: "yesterday" }, "since"],
      [{ since: "2026-01-01T00:00:00" }, "since"],
      [{ unknown: 1 }, ""],
    ];
    for (const [body, path] of cases) {
      const res = await json(user, "POST", "/v1/connections/sandbox/sync", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const problem = await res.json<{ code: string; errors: { path: string }[] }>();
      expect(problem.code).toBe("VALIDATION_FAILED");
      if (path) expect(problem.errors.map((e) => e.path)).toContain(path);
    }
    const malformed = await request("/v1/connections/sandbox/sync", {
      method: "POST",
      headers: { ...user.headers, "Content-Type": "application/json" },
      body: "{",
    });
    expect(malformed.status).toBe(400);
    expect(sent).toEqual([]);
  });

  it("answers 404 when not connected and 409 when the provider needs reconnecting", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    await expectProblem(await json(user, "POST", "/v1/connections/sandbox/sync"), 404, "NOT_FOUND");
    await connect(user);
    await env.DB.prepare("UPDATE connections SET status = 'reauth_required' WHERE user_id = ?").bind(user.user.id).run();
    const res = await json(user, "POST", "/v1/connections/sandbox/sync");
    expect(res.status).toBe(409);
    expect((await res.json<{ detail: string }>()).detail).toMatch(/connect it again/);
  });

  it("limits manual syncs per user (429 with Retry-After)", async () => {
    sandboxProvider();
    const user = await createSessionUser();
    await connect(user);
    for (let i = 0; i < 10; i++) expect((await json(user, "POST", "/v1/connections/sandbox/sync")).status).toBe(202);
    const limited = await json(user, "POST", "/v1/connections/sandbox/sync");
    await expectProblem(limited, 429, "RATE_LIMITED");
    expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);
  });
});

describe("connections are private to their owner", () => {
  it("hides A's connection from B, who can neither sync nor delete it", async () => {
    sandboxProvider();
    const a = await createSessionUser();
    const b = await createSessionUser();
    await connect(a);
    await seedData(a.user.id);
    expect((await overview(b)).connections).toEqual([]);
    expect((await overview(b)).available).toEqual([{ provider: "sandbox", displayName: "Pulse sandbox", connected: false }]);
    await expectProblem(await json(b, "POST", "/v1/connections/sandbox/sync"), 404, "NOT_FOUND");
    await expectProblem(await json(b, "DELETE", "/v1/connections/sandbox?data=delete"), 404, "NOT_FOUND");
    expect((await overview(a)).connections).toMatchObject([{ provider: "sandbox", status: "active" }]);
    const raw = await (await json(a, "GET", `/v1/observations?metrics=heart_rate&${DAY_RANGE}`)).json<{ items: unknown[] }>();
    expect(raw.items).toHaveLength(4);
  });
});
