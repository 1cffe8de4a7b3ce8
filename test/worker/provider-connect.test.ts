// The provider connection flow end to end in workerd: the real app, D1, the OAuthState and
// HealthStore Durable Objects, with only the sandbox provider's HTTP API answered by a `fetch`
// interceptor (shapes of tools/sandbox-provider: RFC 6749 token responses, `GET /v1/me`).
import { runInDurableObject } from "cloudflare:test";
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
const PROVIDER = "http://127.0.0.1:9";
const DAY_MS = 86_400_000;

/** Everything the app enqueued on SYNC during a test. */
let sent: unknown[] = [];
const SYNC = {
  async send(body: unknown) {
    sent.push(body);
  },
  async sendBatch(messages: Iterable<{ body: unknown }>) {
    for (const message of messages) sent.push(message.body);
  },
} as unknown as Queue;

function request(path: string, init: RequestInit = {}): Promise<Response> {
  return call(app, path, init, { SYNC });
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
      "/portal",
      "data:text/html,hi",
    ]) {
      const res = await json(user, "POST", "/v1/connections/sandbox", { returnTo });
      expect(res.status, returnTo).toBe(400);
      const problem = await res.json<{ code: string; errors: { path: string }[] }>();
      expect(problem.code).toBe("VALIDATION_FAILED");
      expect(problem.errors.map((e) => e.path)).toEqual(["returnTo"]);
    }
    const allowed = await json(user, "POST", "/v1/connections/sandbox", { returnTo: "http://localhost:8787/portal" });
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
