/**
 * The drivers inside workerd, where they run: configuration reaching them, and a signed Withings
 * revocation (WebCrypto HMAC) and an Oura page walk against a `fetch` interceptor.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { driverContextFor } from "../../src/providers/config";
import { driverFor } from "../../src/providers/drivers";

afterEach(() => {
  vi.restoreAllMocks();
});

const context = {
  clientId: "pulse-client",
  clientSecret: "pulse-secret",
  redirectUri: "https://api.pulse.test/oauth/x/callback",
};

async function hexHmac(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("drivers in workerd", () => {
  it("Withings: a signed revocation", async () => {
    const forms: URLSearchParams[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const params = new URLSearchParams(await new Request(input, init).text());
      forms.push(params);
      const body = params.get("action") === "getnonce" ? { nonce: "n-1" } : {};
      return Response.json({ status: 0, body });
    });
    await driverFor("withings").revoke(context, { accessToken: "at", refreshToken: null, providerUserId: "42" });
    expect(forms[1]?.get("signature")).toBe(await hexHmac("pulse-secret", "revoke,pulse-client,n-1"));
    expect(forms[1]?.get("userid")).toBe("42");
  });

  it("Oura: one page of a range, with the cursor to resume", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ data: [{ id: "d1" }], next_token: "t2" }));
    const range = { since: new Date("2026-03-01T00:00:00Z"), until: new Date("2026-03-05T00:00:00Z") };
    const before = Date.now();
    const page = await driverFor("oura").fetchRange(context, "at", range, null);
    expect(page).toEqual({
      records: [{ type: "daily_activity", payload: { id: "d1" }, fetchedAt: expect.any(Number) }],
      next: { dataType: "daily_activity", windowStart: "2026-03-01T00:00:00.000Z", pageToken: "t2" },
    });
    // Stamped when fetched: the version of a document Oura revises during the day.
    expect((page.records[0] as { fetchedAt: number }).fetchedAt).toBeGreaterThanOrEqual(before);
  });
});

describe("Oura settings", () => {
  it("the deployment's verification token reaches the driver through driverContextFor", () => {
    const config = {
      publicOrigin: "https://api.pulse.test",
      sandboxEnabled: false,
      returnToOrigins: [],
      credentials: {
        oura: { clientId: "c", clientSecret: "s", webhookVerificationToken: "verify-me" },
        whoop: { clientId: "c", clientSecret: "s" },
      },
    };
    expect(driverContextFor(config, "oura")).toEqual({
      clientId: "c",
      clientSecret: "s",
      redirectUri: "https://api.pulse.test/oauth/oura/callback",
      webhookVerificationToken: "verify-me",
    });
    expect(driverContextFor(config, "whoop")).not.toHaveProperty("webhookVerificationToken");
  });
});
