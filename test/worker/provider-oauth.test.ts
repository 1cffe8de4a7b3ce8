// arctic inside workerd (DESIGN §2: "check each one runs where it must"): the authorize URL with
// PKCE S256 and the token requests, against a provider answered by a `fetch` interceptor — the
// only thing outside the machine. The vitest harness allows code generation from strings, so the
// proof that arctic needs none is test/node/provider-oauth-eval-free.test.ts.
import { afterEach, describe, expect, it, vi } from "vitest";
import { DomainError } from "../../src/errors/domain-error";
import type { DriverContext, ProviderDriver } from "../../src/providers/driver";
import { createOAuthClient, oauthMethods, ProviderOAuthError } from "../../src/providers/oauth";
import { PROVIDER_NAMES, PROVIDERS, UNAVAILABLE_PROVIDERS, withOrigin } from "../../src/providers/registry";

const context: DriverContext = {
  clientId: "pulse-client",
  clientSecret: "s3cr3t:with/odd+chars",
  redirectUri: "http://localhost:8787/oauth/sandbox/callback",
  origin: "http://127.0.0.1:9911",
};

interface Captured {
  url: string;
  headers: Headers;
  form: URLSearchParams;
}

/** Answers every outgoing request with `answer`, recording what was sent. */
function provider(answer: () => Response): Captured[] {
  const captured: Captured[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    captured.push({
      url: request.url,
      headers: request.headers,
      form: new URLSearchParams(new TextDecoder().decode(await request.arrayBuffer())),
    });
    return answer();
  });
  return captured;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

async function s256(verifier: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...digest))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("OAuth with arctic in workerd", () => {
  const sandbox = PROVIDERS.sandbox.oauth;
  if (!sandbox) throw new Error("the sandbox provider uses OAuth");

  it("builds the sandbox authorize URL with state, scopes and a PKCE S256 challenge", async () => {
    const start = createOAuthClient(sandbox, context).authorizationUrl("state-123");

    expect(start.url.origin).toBe("http://127.0.0.1:9911");
    expect(start.url.pathname).toBe("/oauth/authorize");
    const params = start.url.searchParams;
    expect(params.get("response_type")).toBe("code");
    expect(params.get("client_id")).toBe("pulse-client");
    expect(params.get("redirect_uri")).toBe(context.redirectUri);
    expect(params.get("state")).toBe("state-123");
    expect(params.get("scope")).toBe("heart_rate sleep workouts");
    expect(params.get("code_challenge_method")).toBe("S256");
    // RFC 7636 §4.1: 43–128 unreserved characters; §4.2: challenge = BASE64URL(SHA-256(verifier)).
    expect(start.codeVerifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(params.get("code_challenge")).toBe(await s256(start.codeVerifier ?? ""));
    expect(params.has("client_secret")).toBe(false);
  });

  it("exchanges a code with the verifier and HTTP Basic client authentication", async () => {
    const sent = provider(() =>
      json({ access_token: "at-1", refresh_token: "rt-1", token_type: "Bearer", expires_in: 3600, scope: "heart_rate sleep" }),
    );
    const client = createOAuthClient(sandbox, context);
    const before = Date.now();
    const tokens = await client.exchangeCode("code-abc", "verifier-xyz");

    expect(sent).toHaveLength(1);
    const [request] = sent;
    expect(request?.url).toBe("http://127.0.0.1:9911/oauth/token");
    expect(request?.headers.get("Authorization")).toBe(`Basic ${btoa("pulse-client:s3cr3t:with/odd+chars")}`);
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      grant_type: "authorization_code",
      code: "code-abc",
      redirect_uri: context.redirectUri,
      code_verifier: "verifier-xyz",
    });
    expect(tokens.accessToken).toBe("at-1");
    expect(tokens.refreshToken).toBe("rt-1");
    expect(tokens.scopes).toEqual(["heart_rate", "sleep"]);
    const expiresAt = tokens.accessTokenExpiresAt?.getTime() ?? 0;
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
  });

  it("refreshes, and tells invalid_grant (reconnect) from a provider outage (retry)", async () => {
    const client = createOAuthClient(sandbox, context);
    let answer = json({ access_token: "at-2", token_type: "Bearer" });
    const sent = provider(() => answer);

    const tokens = await client.refresh("rt-1");
    expect(Object.fromEntries(sent[0]?.form ?? [])).toEqual({ grant_type: "refresh_token", refresh_token: "rt-1" });
    expect(tokens).toEqual({ accessToken: "at-2", refreshToken: null, accessTokenExpiresAt: null, scopes: null });

    answer = json({ error: "invalid_grant", error_description: "refresh token rt-1 revoked" }, 400);
    const refused = await client.refresh("rt-1").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProviderOAuthError);
    expect(refused).toMatchObject({ oauthError: "invalid_grant", transient: false, code: "UNPROCESSABLE" });
    expect(String((refused as Error).message)).not.toContain("rt-1");

    answer = new Response("upstream down", { status: 503 });
    await expect(client.refresh("rt-1")).rejects.toMatchObject({
      oauthError: null,
      transient: true,
      code: "SERVICE_UNAVAILABLE",
    });
  });

  it("revokes with RFC 7009 at the sandbox", async () => {
    const sent = provider(() => new Response(null, { status: 200 }));
    await createOAuthClient(sandbox, context).revoke("rt-1");
    expect(sent[0]?.url).toBe("http://127.0.0.1:9911/oauth/revoke");
    expect(sent[0]?.form.get("token")).toBe("rt-1");
  });

  it("sends the client secret in the form body where the provider wants it (Dexcom), without PKCE", async () => {
    const dexcom = PROVIDERS.dexcom.oauth;
    if (!dexcom) throw new Error("Dexcom uses OAuth");
    const eu = { ...context, origin: PROVIDERS.dexcom.regions?.eu };
    const start = createOAuthClient(dexcom, eu).authorizationUrl("s");
    expect(start.url.toString()).toMatch(/^https:\/\/api\.dexcom\.eu\/v2\/oauth2\/login\?/);
    expect(start.url.searchParams.has("code_challenge")).toBe(false);
    expect(start.url.searchParams.has("code_challenge_method")).toBe(false);

    const sent = provider(() => json({ access_token: "d-at", refresh_token: "d-rt", expires_in: 7200, token_type: "Bearer" }));
    const tokens = await createOAuthClient(dexcom, eu).exchangeCode("d-code", start.codeVerifier);
    expect(sent[0]?.url).toBe("https://api.dexcom.eu/v2/oauth2/token");
    expect(sent[0]?.headers.has("Authorization")).toBe(false);
    // No challenge was sent, so no verifier either: the form is exactly RFC 6749 §4.1.3 + client_secret_post.
    expect(Object.fromEntries(sent[0]?.form ?? [])).toEqual({
      grant_type: "authorization_code",
      code: "d-code",
      redirect_uri: context.redirectUri,
      client_id: "pulse-client",
      client_secret: context.clientSecret,
    });
    expect(tokens.refreshToken).toBe("d-rt");
  });

  it("joins scopes with commas and adds fixed parameters where the provider deviates (Strava, Withings)", async () => {
    const strava = PROVIDERS.strava.oauth;
    const withings = PROVIDERS.withings.oauth;
    if (!strava || !withings) throw new Error("both use OAuth");
    const stravaUrl = createOAuthClient(strava, { ...context, origin: undefined }).authorizationUrl("s").url;
    expect(stravaUrl.searchParams.get("scope")).toBe("read,activity:read_all,profile:read_all");

    const sent = provider(() => json({ error: "invalid_request" }, 400));
    const withingsClient = createOAuthClient(withings, { ...context, origin: undefined });
    await expect(withingsClient.exchangeCode("w-code", "unused-verifier")).rejects.toMatchObject({
      oauthError: "invalid_request",
    });
    expect(sent[0]?.form.get("action")).toBe("requesttoken");
  });
});

describe("the driver interface, proven with the sandbox's OAuth facts", () => {
  // A minimal sandbox driver: the OAuth half from the registry, the data half left to the sandbox
  // issue. `satisfies` makes the compiler check it against ProviderDriver.
  const facts = PROVIDERS.sandbox;
  const driver = {
    name: "sandbox",
    facts,
    ...oauthMethods(facts),
    async profile() {
      return { providerUserId: "sandbox-user-1", timeZone: "Europe/Paris" };
    },
    async fetchRange() {
      return { records: [], next: null };
    },
    map() {
      return { observations: [], sleepSessions: [], workouts: [], rejected: [] };
    },
  } satisfies ProviderDriver;

  it("runs a whole connection's OAuth through the interface: authorize, exchange, refresh, revoke", async () => {
    const start = await driver.authorizationUrl(context, "state-flow");
    expect(start.url.searchParams.get("code_challenge")).toBe(await s256(start.codeVerifier));

    let answer = json({ access_token: "at-a", refresh_token: "rt-a", token_type: "Bearer", expires_in: 600 });
    const sent = provider(() => answer);
    const issued = await driver.exchangeCode(context, "code-flow", start.codeVerifier);
    expect(sent[0]?.form.get("code_verifier")).toBe(start.codeVerifier);
    expect(issued).toMatchObject({ accessToken: "at-a", refreshToken: "rt-a" });

    answer = json({ access_token: "at-b", refresh_token: "rt-b", token_type: "Bearer", expires_in: 600 });
    expect(await driver.refresh(context, "rt-a")).toMatchObject({ accessToken: "at-b", refreshToken: "rt-b" });

    answer = new Response(null, { status: 200 });
    await driver.revoke(context, { accessToken: "at-b", refreshToken: "rt-b" });
    // RFC 7009 §2.1: revoking the refresh token ends the grant.
    expect(sent.at(-1)).toMatchObject({ url: "http://127.0.0.1:9911/oauth/revoke" });
    expect(sent.at(-1)?.form.get("token")).toBe("rt-b");
  });

  it("revokes nothing where only the user can (Dexcom), and refuses a provider without OAuth (Terra)", async () => {
    const sent = provider(() => json({}));
    await oauthMethods(PROVIDERS.dexcom).revoke(context, { accessToken: "a", refreshToken: "r" });
    expect(sent).toHaveLength(0);
    expect(() => oauthMethods(PROVIDERS.terra)).toThrow(DomainError);
  });
});

describe("provider registry", () => {
  it("describes every provider, with HTTPS endpoints except the local sandbox", () => {
    expect(Object.keys(PROVIDERS).sort()).toEqual([...PROVIDER_NAMES].sort());
    for (const name of PROVIDER_NAMES) {
      const facts = PROVIDERS[name];
      expect(facts.name).toBe(name);
      if (facts.authorization === "widget") {
        expect(facts.oauth).toBeNull();
        continue;
      }
      const oauth = facts.oauth;
      if (!oauth) throw new Error(`${name} lacks OAuth facts`);
      const scheme = name === "sandbox" ? "http:" : "https:";
      expect(new URL(oauth.authorizeUrl).protocol).toBe(scheme);
      expect(new URL(oauth.tokenUrl).protocol).toBe(scheme);
      expect(oauth.scopes.length).toBeGreaterThan(0);
      expect(oauth.scopes.some((scope) => /write/.test(scope))).toBe(false);
    }
    expect(PROVIDERS.dexcom.webhook).toBeNull();
    expect(PROVIDERS["google-health"].oauth?.pkce).toBe(true);
    expect(UNAVAILABLE_PROVIDERS.garmin).toMatch(/not admitting/);
    expect(PROVIDER_NAMES).not.toContain("garmin");
  });

  it("rebases endpoints onto another origin, keeping paths", () => {
    const oauth = PROVIDERS.dexcom.oauth;
    if (!oauth) throw new Error("Dexcom uses OAuth");
    const moved = withOrigin(oauth, "https://sandbox-api.dexcom.com");
    expect(moved.tokenUrl).toBe("https://sandbox-api.dexcom.com/v2/oauth2/token");
    expect(moved.revocation).toEqual({ style: "none", url: null });
  });
});
