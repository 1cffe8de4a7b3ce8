/**
 * The broad per-IP abuse limit on /v1/* (DESIGN §3). It runs on every API request, so it counts in
 * the isolate's memory (LocalWindowCounter) instead of calling the RateLimiter Durable Object:
 * measured in bench/, one Durable Object call per request costs 3.7-4.2x a bare route, against a 2x
 * budget for the whole middleware stack (docs/benchmarks.md). The count is exact per isolate, so
 * across Cloudflare's locations a client may get more in total; that suits an abuse guard, and the
 * deployment adds a zone rate-limiting rule for volumetric floods (README, "Deploying"). Quotas that
 * must be exact (sign-in ceremonies, per-account, uploads) use the Durable Object.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HttpError } from "../http/errors";
import type { AppEnv } from "../http/types";
import { ipRateLimitKey } from "./client-ip";
import { LocalWindowCounter } from "./local-window";

export const IP_LIMIT = { limit: 600, periodSeconds: 60 } as const;

export function ipAbuseLimit(options: { limit?: number; periodSeconds?: number } = {}) {
  const limit = options.limit ?? IP_LIMIT.limit;
  const counter = new LocalWindowCounter({ limit, windowSeconds: options.periodSeconds ?? IP_LIMIT.periodSeconds });
  return createMiddleware<AppEnv>(async (c: Context<AppEnv>, next) => {
    const decision = counter.consume(ipRateLimitKey(c));
    const headers = {
      "RateLimit-Limit": String(limit),
      "RateLimit-Remaining": String(decision.remaining),
      "RateLimit-Reset": String(decision.resetSeconds),
    };
    if (!decision.allowed) {
      throw new HttpError("RATE_LIMITED", `Too many requests from this address; retry in ${decision.resetSeconds} s.`, {
        headers: { ...headers, "Retry-After": String(decision.resetSeconds) },
      });
    }
    await next();
    // Inner, exact limiters (rateLimit()) may already have set tighter headers: keep the tighter.
    const inner = c.res.headers.get("RateLimit-Remaining");
    if (inner === null || Number(inner) > decision.remaining)
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  });
}
