// The sandbox provider's own rules (tools/sandbox-provider), on its fetch handler with a test clock,
// and once on node:http with a real webhook receiver.
import { createHash, createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createSandboxProvider, type SandboxProvider } from "../../tools/sandbox-provider/provider.ts";
import { serveSandboxProvider } from "../../tools/sandbox-provider/serve.ts";

const REDIRECT = "http://localhost:8787/oauth/sandbox/callback";
const ORIGIN = "http://sandbox.test";
const BASIC = `Basic ${Buffer.from("client-1:secret-1").toString("base64")}`;
const VERIFIER = `${"v".repeat(43)}-._~0123`;
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url");

function sandbox(extra: { webhookUrl?: string; pageSize?: number } = {}) {
  const clock = { now: Date.parse("2026-12-07T12:00:00Z") };
  const provider = createSandboxProvider({
    clientId: "client-1",
    clientSecret: "secret-1",
    webhookSigningSecret: "whsec-1",
    redirectUriPrefix: REDIRECT,
    now: () => clock.now,
    ...extra,
  });
  return { provider, clock };
}

function authorizeUrl(overrides: Record<string, string | null> = {}): string {
  const params: Record<string, string | null> = {
    response_type: "code",
    client_id: "client-1",
    redirect_uri: REDIRECT,
    state: "st-1",
    scope: "heart_rate sleep workouts",
    code_challenge: CHALLENGE,
    code_challenge_method: "S256",
    ...overrides,
  };
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== null) query.set(name, value);
  return `${ORIGIN}/oauth/authorize?${query}`;
}

async function consentPage(provider: SandboxProvider, url = authorizeUrl()) {
  const response = await provider.fetch(new Request(url));
  return { status: response.status, headers: response.headers, html: await response.text() };
}

async function decide(provider: SandboxProvider, html: string, decision: string, account = "alice") {
  const consent = /name="consent" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const response = await provider.fetch(
    new Request(`${ORIGIN}/oauth/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ consent, decision, account, time_zone: "Europe/Berlin" }),
    }),
  );
  return response;
}

async function code(provider: SandboxProvider, account = "alice"): Promise<string> {
  const { html } = await consentPage(provider);
  const response = await decide(provider, html, "approve", account);
  return new URL(response.headers.get("location") ?? "").searchParams.get("code") ?? "";
}

async function tokenRequest(provider: SandboxProvider, form: Record<string, string>, authorization = BASIC) {
  const response = await provider.fetch(
    new Request(`${ORIGIN}/oauth/token`, {
      method: "POST",
      headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    }),
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const redeem = (provider: SandboxProvider, value: string, verifier = VERIFIER) =>
  tokenRequest(provider, { grant_type: "authorization_code", code: value, redirect_uri: REDIRECT, code_verifier: verifier });

async function api(provider: SandboxProvider, path: string, accessToken: string) {
  const response = await provider.fetch(new Request(`${ORIGIN}${path}`, { headers: { authorization: `Bearer ${accessToken}` } }));
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

async function post(provider: SandboxProvider, path: string, body: unknown) {
  const response = await provider.fetch(new Request(`${ORIGIN}${path}`, { method: "POST", body: JSON.stringify(body) }));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("sandbox provider: authorization", () => {
  it("shows a consent page naming the app and scopes, escaping everything, with no script", async () => {
    const { provider } = sandbox();
    const page = await consentPage(provider, authorizeUrl({ state: '"><script>alert(1)</script>' }));
    expect(page.status).toBe(200);
    expect(page.html).toContain("<strong>Pulse</strong> wants to read");
    expect(page.html).toContain("Sleep sessions and sleep stages");
    expect(page.html).not.toContain("<script");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    // Browsers apply form-action to the 303 after the form too: the registered app's origin only.
    expect(page.headers.get("content-security-policy")).toContain("form-action 'self' http://localhost:8787;");
    // The state goes back in the redirect, not into the page.
    const denied = await decide(provider, page.html, "deny");
    expect(denied.status).toBe(303);
    const location = new URL(denied.headers.get("location") ?? "");
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe('"><script>alert(1)</script>');
  });

  it("answers an error page, never a redirect, for a wrong client, a foreign redirect URI or no PKCE S256", async () => {
    const { provider } = sandbox();
    const cases: Record<string, string | null>[] = [
      { client_id: "someone-else" },
      { redirect_uri: "https://evil.example/oauth/sandbox/callback" },
      { redirect_uri: "http://localhost:8787/oauth/sandbox/callback/../../x" },
      { redirect_uri: "http://localhost:8787/oauth/sandbox/callbackevil" },
      { redirect_uri: "http://localhost:8787.evil.example/oauth/sandbox/callback" },
      { redirect_uri: `${REDIRECT}#fragment` },
      { code_challenge_method: "plain" },
      { code_challenge_method: null },
      { code_challenge: null },
    ];
    for (const overrides of cases) {
      const page = await consentPage(provider, authorizeUrl(overrides));
      expect(page.status, JSON.stringify(overrides)).toBe(400);
      expect(page.headers.get("location")).toBeNull();
      expect(page.html).not.toContain('name="consent"');
    }
  });

  it("redirects protocol errors after the client and redirect URI are known good", async () => {
    const { provider } = sandbox();
    const scope = await provider.fetch(new Request(authorizeUrl({ scope: "heart_rate write_everything" })));
    expect(new URL(scope.headers.get("location") ?? "").searchParams.get("error")).toBe("invalid_scope");
    const type = await provider.fetch(new Request(authorizeUrl({ response_type: "token" })));
    expect(new URL(type.headers.get("location") ?? "").searchParams.get("error")).toBe("unsupported_response_type");
  });

  it("uses a consent page once", async () => {
    const { provider } = sandbox();
    const { html } = await consentPage(provider);
    expect((await decide(provider, html, "approve")).status).toBe(303);
    expect((await decide(provider, html, "approve")).status).toBe(400);
  });

  it("redeems a code once, with the right verifier and redirect URI, within 60 seconds", async () => {
    const { provider, clock } = sandbox();
    const first = await code(provider);
    const tokens = await redeem(provider, first);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "heart_rate sleep workouts" });
    // Replaying the code fails and revokes what it issued (RFC 6749 §4.1.2).
    expect((await redeem(provider, first)).body.error).toBe("invalid_grant");
    expect((await api(provider, "/v1/me", String(tokens.body.access_token))).status).toBe(401);

    const late = await code(provider);
    clock.now += 61_000;
    expect((await redeem(provider, late)).body.error).toBe("invalid_grant");

    const wrongVerifier = await code(provider);
    expect((await redeem(provider, wrongVerifier, "w".repeat(43))).body.error).toBe("invalid_grant");
    expect((await redeem(provider, wrongVerifier)).body.error).toBe("invalid_grant");

    const wrongRedirect = await code(provider);
    const mismatch = await tokenRequest(provider, {
      grant_type: "authorization_code",
      code: wrongRedirect,
      redirect_uri: `${REDIRECT}/other`,
      code_verifier: VERIFIER,
    });
    expect(mismatch.body.error).toBe("invalid_grant");
  });

  it("authenticates the client with HTTP Basic", async () => {
    const { provider } = sandbox();
    const value = await code(provider);
    const wrong = await tokenRequest(
      provider,
      { grant_type: "authorization_code", code: value, redirect_uri: REDIRECT, code_verifier: VERIFIER },
      `Basic ${Buffer.from("client-1:wrong").toString("base64")}`,
    );
    expect(wrong).toEqual({ status: 401, body: { error: "invalid_client", error_description: expect.any(String) } });
    expect((await redeem(provider, value)).status).toBe(200);
  });

  it("rotates refresh tokens and revokes the family when a rotated one comes back", async () => {
    const { provider } = sandbox();
    const issued = (await redeem(provider, await code(provider))).body;
    const next = await tokenRequest(provider, { grant_type: "refresh_token", refresh_token: String(issued.refresh_token) });
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(issued.refresh_token);
    const reuse = await tokenRequest(provider, { grant_type: "refresh_token", refresh_token: String(issued.refresh_token) });
    expect(reuse).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const afterReuse = await tokenRequest(provider, {
      grant_type: "refresh_token",
      refresh_token: String(next.body.refresh_token),
    });
    expect(afterReuse.body.error).toBe("invalid_grant");
    expect((await api(provider, "/v1/me", String(next.body.access_token))).status).toBe(401);
  });

  it("expires access tokens after their lifetime, and revokes through RFC 7009", async () => {
    const { provider, clock } = sandbox();
    const issued = (await redeem(provider, await code(provider))).body;
    const me = await api(provider, "/v1/me", String(issued.access_token));
    expect(me.body).toEqual({ user_id: expect.stringMatching(/^sbx_[0-9a-f]{20}$/), time_zone: "Europe/Berlin" });
    clock.now += 3600_000;
    expect((await api(provider, "/v1/me", String(issued.access_token))).status).toBe(401);
    const revoke = await provider.fetch(
      new Request(`${ORIGIN}/oauth/revoke`, {
        method: "POST",
        headers: { authorization: BASIC, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: String(issued.refresh_token) }),
      }),
    );
    expect(revoke.status).toBe(200);
    const refresh = await tokenRequest(provider, { grant_type: "refresh_token", refresh_token: String(issued.refresh_token) });
    expect(refresh.body.error).toBe("invalid_grant");
  });
});

describe("sandbox provider: data API", () => {
  async function connected(extra: { webhookUrl?: string; pageSize?: number } = {}) {
    const setup = sandbox(extra);
    const issued = (await redeem(setup.provider, await code(setup.provider))).body;
    const accessToken = String(issued.access_token);
    const userId = String((await api(setup.provider, "/v1/me", accessToken)).body.user_id);
    return { ...setup, accessToken, userId };
  }

  it("caps a request at 30 days and refuses page tokens of another query", async () => {
    const { provider, accessToken } = await connected();
    const tooLong = await api(provider, "/v1/data/heart_rate?start=2026-10-01T00:00:00Z&end=2026-11-01T00:00:00Z", accessToken);
    expect(tooLong).toMatchObject({ status: 400, body: { error: "range_too_large" } });
    const page = await api(provider, "/v1/data/heart_rate?start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z", accessToken);
    expect(page.body.data).toHaveLength(1440);
    const hr = await api(provider, "/v1/data/heart_rate?start=2026-11-01T00:00:00Z&end=2026-11-03T00:00:00Z", accessToken);
    expect(hr.body.data).toHaveLength(2000);
    const token = String(hr.body.next_page_token);
    const foreign = await api(
      provider,
      `/v1/data/glucose?start=2026-11-01T00:00:00Z&end=2026-11-03T00:00:00Z&page_token=${token}`,
      accessToken,
    );
    expect(foreign.status).toBe(400);
    const rest = await api(
      provider,
      `/v1/data/heart_rate?start=2026-11-01T00:00:00Z&end=2026-11-03T00:00:00Z&page_token=${token}`,
      accessToken,
    );
    expect(rest.body).toMatchObject({ next_page_token: null });
    expect(rest.body.data).toHaveLength(880);
    expect((await api(provider, "/v1/data/blood?start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z", accessToken)).status).toBe(
      404,
    );
  });

  it("generates the same plausible records for the same account and range, others for another account", async () => {
    const { provider, accessToken } = await connected();
    const path = "/v1/data/glucose?start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z";
    const first = await api(provider, path, accessToken);
    expect((await api(provider, path, accessToken)).body).toEqual(first.body);
    const readings = first.body.data as { value: number; unit: string }[];
    expect(readings).toHaveLength(288);
    expect(Math.min(...readings.map((r) => r.value))).toBeGreaterThan(60);
    expect(Math.max(...readings.map((r) => r.value))).toBeLessThan(220);
    const bob = String((await redeem(provider, await code(provider, "bob"))).body.access_token);
    expect((await api(provider, path, bob)).body).not.toEqual(first.body);
  });

  it("answers 429 with Retry-After until the window passes, and injected 5xx once", async () => {
    const { provider, clock, accessToken, userId } = await connected();
    expect(
      (await post(provider, `/_sandbox/users/${userId}/control`, { rateLimit: { remaining: 1, retryAfter: 30 } })).status,
    ).toBe(200);
    expect((await api(provider, "/v1/me", accessToken)).status).toBe(200);
    const limited = await api(provider, "/v1/me", accessToken);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("30");
    clock.now += 10_000;
    expect((await api(provider, "/v1/me", accessToken)).headers.get("retry-after")).toBe("20");
    clock.now += 20_000;
    expect((await api(provider, "/v1/me", accessToken)).status).toBe(200);
    await post(provider, "/_sandbox/control", { failNext: { status: 503, count: 2 } });
    expect((await api(provider, "/v1/me", accessToken)).status).toBe(503);
    expect((await api(provider, "/v1/me", accessToken)).status).toBe(503);
    expect((await api(provider, "/v1/me", accessToken)).status).toBe(200);
    expect((await post(provider, "/_sandbox/control", { failNext: 404 })).status).toBe(400);
  });

  it("expires or revokes an account's tokens on request", async () => {
    const { provider, accessToken, userId } = await connected();
    expect((await post(provider, `/_sandbox/users/${userId}/expire-tokens`, {})).body).toEqual({ expired: 1 });
    expect((await api(provider, "/v1/me", accessToken)).status).toBe(401);
    expect((await post(provider, `/_sandbox/users/${userId}/revoke-tokens`, {})).body).toEqual({ revoked: 1 });
  });
});

describe("sandbox provider: pushes and webhooks", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  it("makes newer data available and POSTs a signed webhook to webhookUrl", async () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      request.on("end", () => {
        received.push({ headers: request.headers, body });
        response.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => receiver.close(resolve)));
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/sandbox`;
    const running = await serveSandboxProvider({
      port: 0,
      clientId: "client-1",
      clientSecret: "secret-1",
      webhookSigningSecret: "whsec-1",
      redirectUriPrefix: REDIRECT,
      webhookUrl,
    });
    closers.push(() => running.close());

    const page = await fetch(authorizeUrl().replace(ORIGIN, running.origin));
    const consent = /name="consent" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    const approved = await fetch(`${running.origin}/oauth/authorize`, {
      method: "POST",
      body: new URLSearchParams({ consent, decision: "approve", account: "pusher", time_zone: "America/New_York" }),
      redirect: "manual",
    });
    const issued = await fetch(`${running.origin}/oauth/token`, {
      method: "POST",
      headers: { authorization: BASIC },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: new URL(approved.headers.get("location") ?? "").searchParams.get("code") ?? "",
        redirect_uri: REDIRECT,
        code_verifier: VERIFIER,
      }),
    });
    const accessToken = ((await issued.json()) as { access_token: string }).access_token;
    const me = (await (
      await fetch(`${running.origin}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })
    ).json()) as {
      user_id: string;
      time_zone: string;
    };
    expect(me.time_zone).toBe("America/New_York");

    const pushed = await fetch(`${running.origin}/_sandbox/users/${me.user_id}/push`, { method: "POST", body: "{}" });
    const result = (await pushed.json()) as { delivery: { body: string; headers: Record<string, string> }; receiver: unknown };
    expect(result.receiver).toEqual({ status: 202 });
    expect(received).toHaveLength(1);
    const [delivered] = received;
    expect(delivered?.body).toBe(result.delivery.body);
    const signature = String(delivered?.headers["sandbox-signature"]);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
    expect(v1).toBe(createHmac("sha256", "whsec-1").update(`${t}.${delivered?.body}`).digest("hex"));
    const event = JSON.parse(delivered?.body ?? "{}") as { event_id: string; user_id: string; start: string; end: string };
    expect(event).toMatchObject({ user_id: me.user_id, data_type: "all" });
    expect(event.event_id).toMatch(/^[0-9a-f-]{36}$/);

    // The pushed hour is now served: one heart-rate sample a minute.
    const data = await fetch(`${running.origin}/v1/data/heart_rate?start=${event.start}&end=${event.end}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    const samples = ((await data.json()) as { data: unknown[] }).data;
    expect(samples).toHaveLength((Date.parse(event.end) - Date.parse(event.start)) / 60_000);
    // Nothing newer until time passes.
    expect((await fetch(`${running.origin}/_sandbox/users/${me.user_id}/push`, { method: "POST", body: "{}" })).status).toBe(409);
  });
});
