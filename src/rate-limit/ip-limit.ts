/**
 * The broad per-IP abuse limit on /v1/* (DESIGN §3). It runs on every API request, so it uses
 * Cloudflare's rate-limiting binding (counted in memory at each location, no storage round trip)
 * instead of the RateLimiter Durable Object: measured in bench/, a Durable Object call per request
 * costs 3.7-4.2x a bare route, against a 2x budget for the whole middleware stack. The binding is
 * approximate (per location, eventually consistent), which suits an abuse guard; quotas that must be
 * exact use `rateLimit()` / `enforceQuota()` with the Durable Object.
 */
import { createMiddleware } from "hono/factory";
import { AppError } from "../http/errors";
import { errorName, log } from "../http/log";
import type { AppEnv } from "../http/types";
import { ipRateLimitKey } from "./client-ip";
import { IP_LIMIT } from "./ip-limit-policy";

export { IP_LIMIT } from "./ip-limit-policy";

export function ipAbuseLimit() {
  return createMiddleware<AppEnv>(async (c, next) => {
    let allowed = true;
    try {
      ({ success: allowed } = await c.env.IP_RATE_LIMIT.limit({ key: ipRateLimitKey(c) }));
    } catch (error) {
      // Fail open: an outage of the abuse guard must not become an outage of the API.
      log("error", "ip rate limit unavailable", { requestId: c.get("requestId"), error: errorName(error) });
    }
    if (!allowed) {
      // The binding does not expose its window position; the period bounds the wait.
      throw new AppError("RATE_LIMITED", `Too many requests from this address; retry in ${IP_LIMIT.periodSeconds} s.`, {
        headers: {
          "Retry-After": String(IP_LIMIT.periodSeconds),
          "RateLimit-Limit": String(IP_LIMIT.limit),
          "RateLimit-Remaining": "0",
          "RateLimit-Reset": String(IP_LIMIT.periodSeconds),
        },
      });
    }
    await next();
  });
}
