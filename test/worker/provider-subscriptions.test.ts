// The daily upkeep of app-level webhook subscriptions: Oura's (one per data type and event, and
// they expire) are created when missing and renewed when close to expiry, against a provider
// answered by a fetch interceptor; a provider that fails does not stop the others.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { maintainAppSubscriptions } from "../../src/providers/subscriptions";

const DAY_MS = 86_400_000;

interface Seen {
  method: string;
  url: URL;
  body: string;
}

function ouraAnswering(existing: { id: string; data_type: string; event_type: string; expiration_time: string }[]): Seen[] {
  const seen: Seen[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    seen.push({ method: request.method, url, body: await request.text() });
    if (url.hostname !== "api.ouraring.com") return new Response("unreachable", { status: 503 });
    if (request.headers.get("x-client-secret") !== "oura-secret") return new Response(null, { status: 401 });
    if (request.method === "GET" && url.pathname === "/v2/webhook/subscription") {
      const callback = "http://localhost:8787/webhooks/oura";
      return Response.json(existing.map((item) => ({ ...item, callback_url: callback })));
    }
    return Response.json({ id: crypto.randomUUID() }, { status: request.method === "POST" ? 201 : 200 });
  });
  return seen;
}

const withProviders = (credentials: Record<string, unknown>) => ({ ...env, PROVIDER_CREDENTIALS: JSON.stringify(credentials) });
const oura = { clientId: "oura-client", clientSecret: "oura-secret", webhookVerificationToken: "oura-verify" };

afterEach(() => vi.restoreAllMocks());

describe("app-level webhook subscriptions", () => {
  it("creates each missing Oura subscription once and renews only those expiring within a week", async () => {
    const soon = new Date(Date.now() + 2 * DAY_MS).toISOString();
    const later = new Date(Date.now() + 60 * DAY_MS).toISOString();
    const seen = ouraAnswering([
      { id: "sub-soon", data_type: "sleep", event_type: "create", expiration_time: soon },
      { id: "sub-later", data_type: "sleep", event_type: "update", expiration_time: later },
    ]);
    const outcomes = await maintainAppSubscriptions(withProviders({ oura }));
    expect(outcomes).toEqual([{ provider: "oura", ok: true }]);

    const created = seen.filter((request) => request.method === "POST").map((request) => JSON.parse(request.body));
    expect(created.length).toBeGreaterThan(0);
    expect(created).not.toContainEqual(expect.objectContaining({ data_type: "sleep" }));
    for (const body of created) {
      expect(body).toMatchObject({ callback_url: "http://localhost:8787/webhooks/oura", verification_token: "oura-verify" });
    }
    const pairs = created.map((body) => `${body.data_type}/${body.event_type}`);
    expect(new Set(pairs).size).toBe(pairs.length);

    const renewed = seen.filter((request) => request.method === "PUT").map((request) => request.url.pathname);
    expect(renewed).toEqual(["/v2/webhook/subscription/renew/sub-soon"]);
  });

  it("reports a provider it could not reach and still maintains the others", async () => {
    ouraAnswering([]);
    const outcomes = await maintainAppSubscriptions(
      withProviders({
        oura: { ...oura, clientSecret: "wrong" },
        strava: { clientId: "s", clientSecret: "s", webhookVerifyToken: "v" },
      }),
    );
    expect(outcomes).toEqual([
      { provider: "oura", ok: false },
      { provider: "strava", ok: false },
    ]);
  });

  it("skips providers without app-level subscriptions (the sandbox, per-user Withings)", async () => {
    const seen = ouraAnswering([]);
    const outcomes = await maintainAppSubscriptions(withProviders({ withings: { clientId: "w", clientSecret: "w" } }));
    expect(outcomes).toEqual([]);
    expect(seen).toEqual([]);
  });
});
