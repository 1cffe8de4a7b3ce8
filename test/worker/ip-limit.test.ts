import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { onError } from "../../src/http/error-handler";
import type { AppEnv } from "../../src/http/types";
import { IP_LIMIT, ipAbuseLimit } from "../../src/rate-limit/ip-limit";
import { LocalWindowCounter } from "../../src/rate-limit/local-window";
import { call, createTestApp } from "./helpers/test-app";

function limitedApp(limit: number) {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", "req-ip-limit-test");
    await next();
  });
  app.use("*", ipAbuseLimit({ limit, periodSeconds: 60 }));
  app.get("/v1/thing", (c) => c.json({ ok: true }));
  app.onError(onError);
  return (ip: string) =>
    app.request("http://localhost/v1/thing", { headers: { "CF-Connecting-IP": ip } }, env, createExecutionContext());
}

describe("per-IP limit on /v1/*", () => {
  it("reports its quota on every /v1 response of the real app", async () => {
    const res = await call(createTestApp(), "/v1/nothing-here", { headers: { "CF-Connecting-IP": "192.0.2.10" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("RateLimit-Limit")).toBe(String(IP_LIMIT.limit));
    expect(res.headers.get("RateLimit-Remaining")).toBe(String(IP_LIMIT.limit - 1));
    const health = await call(createTestApp(), "/health");
    expect(health.headers.get("RateLimit-Limit")).toBeNull();
  });

  it("answers 429 with Retry-After and RateLimit-* once an address is over its limit", async () => {
    const request = limitedApp(3);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await request("203.0.113.77");
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last?.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(last?.headers.get("RateLimit-Remaining")).toBe("0");
    expect(await last?.json()).toMatchObject({ status: 429, code: "RATE_LIMITED" });
  });

  it("never lets more than the limit through under concurrency", async () => {
    const request = limitedApp(5);
    const statuses = await Promise.all(Array.from({ length: 25 }, () => request("198.51.100.50")));
    expect(statuses.filter((res) => res.status === 200)).toHaveLength(5);
  });

  it("counts addresses separately, an IPv6 /64 as one address", async () => {
    const request = limitedApp(3);
    for (let i = 0; i < 3; i++) expect((await request(`2001:db8:77:1::${i + 1}`)).status).toBe(200);
    expect((await request("2001:db8:77:1::ff")).status).toBe(429);
    expect((await request("198.51.100.9")).status).toBe(200);
  });
});

describe("LocalWindowCounter", () => {
  it("opens a new window once the old one has passed", () => {
    const counter = new LocalWindowCounter({ limit: 2, windowSeconds: 60 });
    const t0 = 1_000_000;
    expect([counter.consume("a", t0), counter.consume("a", t0 + 1), counter.consume("a", t0 + 2)].map((d) => d.allowed)).toEqual([
      true,
      true,
      false,
    ]);
    expect(counter.consume("a", t0 + 30_000).resetSeconds).toBe(30);
    expect(counter.consume("a", t0 + 60_000)).toEqual({ allowed: true, remaining: 1, resetSeconds: 60 });
  });

  it("keeps memory bounded, dropping expired windows first and then the oldest", () => {
    const counter = new LocalWindowCounter({ limit: 1, windowSeconds: 60, maxKeys: 3 });
    counter.consume("old", 0);
    counter.consume("b", 50_000);
    counter.consume("c", 50_000);
    counter.consume("d", 70_000);
    expect(counter.size).toBe(3);
    expect(counter.consume("b", 70_000).allowed).toBe(false);
    counter.consume("e", 70_000);
    expect(counter.size).toBe(3);
    expect(counter.consume("b", 70_000).allowed).toBe(true);
  });
});
