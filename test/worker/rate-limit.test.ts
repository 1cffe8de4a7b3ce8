import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "../../durable-objects/rate-limiter";
import { DomainError } from "../../src/errors/domain-error";
import { onError } from "../../src/http/error-handler";
import type { AppEnv } from "../../src/http/types";
import { clientIp, ipRateLimitKey, type RateLimitOptions, rateLimit } from "../../src/rate-limit/middleware";

const limiter = () => env.RATE_LIMITER.getByName(`test:${crypto.randomUUID()}`);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("RateLimiter", () => {
  it("reports limit, remaining and seconds to reset, and denies past the quota", async () => {
    const stub = limiter();
    expect(await stub.consume(3, 60)).toEqual({ allowed: true, limit: 3, remaining: 2, resetSeconds: 60, retryAfterSeconds: 0 });
    expect(await stub.consume(3, 60, 2)).toMatchObject({ allowed: true, remaining: 0 });
    const denied = await stub.consume(3, 60);
    expect(denied).toMatchObject({ allowed: false, limit: 3, remaining: 0 });
    expect(denied.resetSeconds).toBeGreaterThanOrEqual(1);
    expect(denied.resetSeconds).toBeLessThanOrEqual(60);
    expect(denied.retryAfterSeconds).toBe(denied.resetSeconds);
  });

  it("lets exactly the quota through when 50 calls race", async () => {
    const stub = limiter();
    const decisions = await Promise.all(Array.from({ length: 50 }, () => stub.consume(10, 60)));
    const allowed = decisions.filter((decision) => decision.allowed);
    expect(allowed).toHaveLength(10);
    expect(allowed.map((decision) => decision.remaining).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("does not let a denied call spend quota, and a cost larger than what is left is denied whole", async () => {
    const stub = limiter();
    await stub.consume(5, 60, 4);
    expect(await stub.consume(5, 60, 2)).toMatchObject({ allowed: false, remaining: 1 });
    expect(await stub.consume(5, 60, 1)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("opens a fresh window once the old one has ended", async () => {
    const stub = limiter();
    await stub.consume(2, 1, 2);
    expect((await stub.consume(2, 1)).allowed).toBe(false);
    await wait(1100);
    expect(await stub.consume(2, 1)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it("keeps the count when the object is evicted", async () => {
    const stub = limiter();
    await stub.consume(5, 60, 3);
    await evictDurableObject(stub);
    expect(await stub.consume(5, 60)).toMatchObject({ allowed: true, remaining: 1 });
  });

  it("keeps a live window when its clean-up alarm runs early", async () => {
    const stub = limiter();
    await stub.consume(3, 60);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stub.consume(3, 60)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("deletes its storage and alarm once the window has ended", async () => {
    const stub = limiter();
    await stub.consume(3, 1);
    await wait(1100);
    await runDurableObjectAlarm(stub); // may already have fired on its own
    const left = await runInDurableObject(stub, async (_instance, state) => ({
      entries: [...state.storage.kv.list()].length,
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ entries: 0, alarm: null });
  });

  // Called on the instance, not through the stub: a rejecting RPC in the vitest harness also leaks an
  // unhandled rejection (cloudflare/workers-sdk#14736).
  it("rejects limits, windows and costs that are not positive integers", async () => {
    await runInDurableObject(limiter(), async (instance: RateLimiter) => {
      await expect(instance.consume(0, 60)).rejects.toThrow(/limit/);
      await expect(instance.consume(1.5, 60)).rejects.toThrow(/limit/);
      await expect(instance.consume(5, -1)).rejects.toThrow(/windowSeconds/);
      await expect(instance.consume(5, 60, 6)).rejects.toThrow(/cost/);
    });
  });
});

function limitedApp(...limiters: Array<Partial<RateLimitOptions> & { max: number }>) {
  const app = new Hono<AppEnv>();
  for (const { max, ...options } of limiters)
    app.use("*", rateLimit({ name: "test", windowSeconds: 60, limit: () => max, key: (c) => c.req.header("X-Key"), ...options }));
  app.get("/ok", (c) => c.json({ ok: true }));
  app.get("/missing", () => {
    throw new DomainError("NOT_FOUND");
  });
  app.onError(onError);
  return app;
}

function get(app: Hono<AppEnv>, path: string, key: string | undefined, bindings: Env = env) {
  const headers: Record<string, string> = key === undefined ? {} : { "X-Key": key };
  return app.fetch(new Request(`http://localhost${path}`, { headers }), bindings);
}

describe("rateLimit middleware", () => {
  it("puts RateLimit headers on allowed responses and on errors thrown downstream", async () => {
    const app = limitedApp({ max: 3 });
    const key = crypto.randomUUID();
    const ok = await get(app, "/ok", key);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("RateLimit-Limit")).toBe("3");
    expect(ok.headers.get("RateLimit-Remaining")).toBe("2");
    expect(ok.headers.get("RateLimit-Reset")).toBe("60");
    const missing = await get(app, "/missing", key);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("RateLimit-Remaining")).toBe("1");
  });

  it("answers the request after the quota with a 429 problem document and Retry-After", async () => {
    const app = limitedApp({ max: 2 });
    const key = crypto.randomUUID();
    await get(app, "/ok", key);
    await get(app, "/ok", key);
    const res = await get(app, "/ok", key);
    expect(res.status).toBe(429);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(res.headers.get("RateLimit-Limit")).toBe("2");
    expect(res.headers.get("RateLimit-Remaining")).toBe("0");
    const retryAfter = Number(res.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers.get("RateLimit-Reset")).toBe(String(retryAfter));
    expect(await res.json()).toMatchObject({ status: 429, code: "RATE_LIMITED" });
  });

  it("lets exactly the limit through when requests race", async () => {
    const app = limitedApp({ max: 5 });
    const key = crypto.randomUUID();
    const responses = await Promise.all(Array.from({ length: 25 }, () => get(app, "/ok", key)));
    const statuses = responses.map((res) => res.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
  });

  it("counts each key separately and skips limiting when there is no key", async () => {
    const app = limitedApp({ max: 1 });
    const [first, second] = [crypto.randomUUID(), crypto.randomUUID()];
    expect((await get(app, "/ok", first)).status).toBe(200);
    expect((await get(app, "/ok", first)).status).toBe(429);
    expect((await get(app, "/ok", second)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await get(app, "/ok", undefined);
      expect(res.status).toBe(200);
      expect(res.headers.has("RateLimit-Limit")).toBe(false);
    }
  });

  it("reports the limiter closest to exhaustion when two apply", async () => {
    const app = limitedApp({ name: "outer", max: 100 }, { name: "inner", max: 2 });
    const key = crypto.randomUUID();
    const first = await get(app, "/ok", key);
    expect(first.headers.get("RateLimit-Limit")).toBe("2");
    expect(first.headers.get("RateLimit-Remaining")).toBe("1");
    await get(app, "/ok", key);
    const denied = await get(app, "/ok", key);
    expect(denied.status).toBe(429);
    expect(denied.headers.get("RateLimit-Limit")).toBe("2");
    expect(denied.headers.get("RateLimit-Remaining")).toBe("0");
  });

  it("fails open by default and closed when asked, if the limiter cannot answer", async () => {
    const broken = {
      ...env,
      RATE_LIMITER: {
        getByName: () => ({ consume: () => Promise.reject(new Error("limiter down")) }),
      } as unknown as Env["RATE_LIMITER"],
    };
    const open = await get(limitedApp({ max: 1 }), "/ok", "k", broken);
    expect(open.status).toBe(200);
    expect(open.headers.has("RateLimit-Limit")).toBe(false);
    const closed = await get(limitedApp({ max: 1, onLimiterError: "closed" }), "/ok", "k", broken);
    expect(closed.status).toBe(503);
    expect(closed.headers.get("Retry-After")).toBe("5");
    expect(await closed.json()).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  });
});

describe("clientIp and ipRateLimitKey", () => {
  const app = new Hono<AppEnv>().get("/", (c) => c.json({ ip: clientIp(c), key: ipRateLimitKey(c) }));
  const ask = async (header?: string) => {
    const headers: Record<string, string> = header === undefined ? {} : { "CF-Connecting-IP": header };
    const res = await app.fetch(new Request("http://localhost/", { headers }), env);
    return res.json();
  };

  it.each([
    ["203.0.113.7", "203.0.113.7", "203.0.113.7"],
    ["2001:db8:85a3:1234:5678:8a2e:370:7334", "2001:db8:85a3:1234:5678:8a2e:370:7334", "2001:db8:85a3:1234::/64"],
    ["2001:DB8::1", "2001:DB8::1", "2001:db8:0:0::/64"],
    ["::ffff:198.51.100.4", "::ffff:198.51.100.4", "198.51.100.4"],
    ["not-an-ip", "unknown", "unknown"],
    ["1:2:3:4:5:6:7:8:9", "unknown", "unknown"],
    [undefined, "unknown", "unknown"],
  ])("CF-Connecting-IP %s → ip %s, key %s", async (header, ip, key) => {
    expect(await ask(header)).toEqual({ ip, key });
  });

  it("gives every address in one IPv6 /64 the same key", async () => {
    const a = await ask("2001:db8:aa:bb::1");
    const b = await ask("2001:db8:aa:bb:ffff:ffff:ffff:ffff");
    expect(a).toMatchObject({ key: "2001:db8:aa:bb::/64" });
    expect(b).toMatchObject({ key: "2001:db8:aa:bb::/64" });
  });
});
