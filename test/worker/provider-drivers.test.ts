// The Strava, Polar, Terra and Google Health drivers inside workerd, configured the way the Worker
// configures them (PROVIDER_CREDENTIALS → driverContextFor): what only a provider's HTTP API could
// answer is answered by a `fetch` interceptor. The drivers' full behaviour is covered in Node by
// test/node/provider-driver-*.test.ts on the providers' documented payloads.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { driverContextFor, getProvidersConfig } from "../../src/providers/config";
import { driverFor } from "../../src/providers/drivers";

const credentials = {
  terra: { clientId: "terra-dev", clientSecret: "terra-api-key", devId: "pulse-dev" },
  strava: { clientId: "123", clientSecret: "strava-secret", webhookVerifyToken: "verify-me" },
  polar: { clientId: "polar-client", clientSecret: "polar-secret" },
  "google-health": { clientId: "google-client", clientSecret: "google-secret" },
};

function configured() {
  return getProvidersConfig({ ...env, PROVIDER_CREDENTIALS: JSON.stringify(credentials) } as Env);
}

function answer(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("provider drivers in workerd", () => {
  it("driverContextFor passes Terra's dev id and Strava's verify token, nothing for the others", () => {
    const config = configured();
    expect(driverContextFor(config, "terra").devId).toBe("pulse-dev");
    expect(driverContextFor(config, "strava").webhookVerificationToken).toBe("verify-me");
    expect(driverContextFor(config, "polar")).not.toHaveProperty("devId");
    expect(driverContextFor(config, "polar")).not.toHaveProperty("webhookVerificationToken");
    expect(driverContextFor(config, "terra").redirectUri).toMatch(/\/oauth\/terra\/callback$/);
  });

  it("every driver of this part is registered under its provider", () => {
    for (const name of ["strava", "polar", "terra", "google-health"] as const) expect(driverFor(name).name).toBe(name);
  });

  it("Terra's widget session and a Strava page run in workerd with the configured credentials", async () => {
    const config = configured();
    const sent: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      sent.push(request);
      return new URL(request.url).host === "api.tryterra.co"
        ? answer({ status: "success", url: "https://widget.tryterra.co/session/s-1", session_id: "s-1", expires_in: 900 })
        : answer([]);
    });
    const start = await driverFor("terra").authorizationUrl(driverContextFor(config, "terra"), "state-0123456789abcdefghij");
    expect(start.url.toString()).toBe("https://widget.tryterra.co/session/s-1");
    expect(sent[0]?.headers.get("dev-id")).toBe("pulse-dev");
    expect(sent[0]?.headers.get("x-api-key")).toBe("terra-api-key");

    const range = { since: new Date("2026-01-01T00:00:00Z"), until: new Date("2026-04-01T00:00:00Z") };
    const page = await driverFor("strava").fetchRange(driverContextFor(config, "strava"), "strava-token", range, null);
    expect(page).toEqual({ records: [], next: null });
    expect(sent[1]?.headers.get("Authorization")).toBe("Bearer strava-token");
  });

  it("a provider's 401 inside workerd is UNAUTHENTICATED, its 429 RATE_LIMITED with Retry-After", async () => {
    const config = configured();
    const range = { since: new Date("2026-01-01T00:00:00Z"), until: new Date("2026-02-01T00:00:00Z") };
    const google = driverFor("google-health");
    vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(answer({ error: { code: 401, status: "UNAUTHENTICATED" } }, 401));
    await expect(google.fetchRange(driverContextFor(config, "google-health"), "t", range, null)).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
    });
    vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(
      new Response("{}", { status: 429, headers: { "Retry-After": "30", "Content-Type": "application/json" } }),
    );
    await expect(google.fetchRange(driverContextFor(config, "google-health"), "t", range, null)).rejects.toMatchObject({
      code: "RATE_LIMITED",
      retryAfterSeconds: 30,
    });
  });
});
