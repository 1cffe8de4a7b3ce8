import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { IP_LIMIT } from "../../src/rate-limit/ip-limit";
import { call, createTestApp } from "./helpers/test-app";

const app = createTestApp();

describe("per-IP limit on /v1/*", () => {
  it("answers 429 with Retry-After and RateLimit-* once an address is over its limit", async () => {
    const headers = { "CF-Connecting-IP": "203.0.113.77" };
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await call(app, "/v1/nothing-here", { headers }, { IP_RATE_LIMIT: env.TEST_IP_RATE_LIMIT_3 });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([404, 404, 404, 429]);
    expect(last?.headers.get("Retry-After")).toBe(String(IP_LIMIT.periodSeconds));
    expect(last?.headers.get("RateLimit-Remaining")).toBe("0");
    expect(await last?.json()).toMatchObject({ status: 429, code: "RATE_LIMITED" });
  });

  it("counts addresses separately, an IPv6 /64 as one address", async () => {
    const limited = { IP_RATE_LIMIT: env.TEST_IP_RATE_LIMIT_3 };
    for (let i = 0; i < 3; i++) {
      const res = await call(app, "/v1/nothing-here", { headers: { "CF-Connecting-IP": `2001:db8:77:1::${i + 1}` } }, limited);
      expect(res.status).toBe(404);
    }
    const sameNetwork = await call(app, "/v1/nothing-here", { headers: { "CF-Connecting-IP": "2001:db8:77:1::ff" } }, limited);
    expect(sameNetwork.status).toBe(429);
    const other = await call(app, "/v1/nothing-here", { headers: { "CF-Connecting-IP": "198.51.100.9" } }, limited);
    expect(other.status).toBe(404);
  });

  it("does not apply outside /v1", async () => {
    const limited = { IP_RATE_LIMIT: env.TEST_IP_RATE_LIMIT_3 };
    for (let i = 0; i < 5; i++) {
      const res = await call(app, "/health", { headers: { "CF-Connecting-IP": "192.0.2.200" } }, limited);
      expect(res.status).toBe(200);
    }
  });
});
