/**
 * Rate limiting as a middleware factory, backed by the RateLimiter Durable Object (exact counts).
 *
 * Headers follow DESIGN §3 and draft-ietf-httpapi-ratelimit-headers (-07): `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the window ends) on every limited response,
 * errors included; a denied request is a 429 problem document with `Retry-After` (RFC 9110 §10.2.3).
 * When several limiters apply (per IP outside, per user inside), the response carries the one
 * closest to exhaustion, as the draft recommends.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { RateLimitDecision } from "../../durable-objects/rate-limiter";
import { HttpError } from "../http/errors";
import type { AppEnv } from "../http/types";
import { errorName, log } from "../observability/log";

export { clientIp, ipRateLimitKey, UNKNOWN_CLIENT } from "./client-ip";

export interface RateLimitOptions {
  /** Names the quota; with the key it names the limiter object, so `[a-z0-9-]` only. */
  name: string;
  windowSeconds: number;
  limit: (c: Context<AppEnv>) => number;
  /** Whose quota this request spends; `undefined` skips limiting (e.g. no user on this request). */
  key: (c: Context<AppEnv>) => string | undefined;
  /**
   * When the RateLimiter cannot answer. "open" (default) lets the request through and logs an
   * error: for broad abuse limits (per IP) a limiter outage must not become an API outage, and the
   * other defences (authentication, body limits) still hold. "closed" answers 503: for limits that
   * guard something costly or security-sensitive, where an unlimited burst is worse than a retry.
   */
  onLimiterError?: "open" | "closed";
}

const NAME_FORMAT = /^[a-z0-9-]{1,32}$/;
const UNAVAILABLE_RETRY_SECONDS = 5;

function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    "RateLimit-Limit": String(decision.limit),
    "RateLimit-Remaining": String(decision.remaining),
    "RateLimit-Reset": String(decision.resetSeconds),
  };
}

/** Keeps whichever limiter's headers are closer to exhaustion (ties keep the inner limiter's). */
function applyHeaders(target: Headers, decision: RateLimitDecision): void {
  const existing = target.get("RateLimit-Remaining");
  if (existing !== null && Number(existing) <= decision.remaining) return;
  for (const [name, value] of Object.entries(rateLimitHeaders(decision))) target.set(name, value);
}

export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const { name, windowSeconds } = options;
  if (!NAME_FORMAT.test(name)) throw new TypeError(`rate limit name must match ${NAME_FORMAT}: ${name}`);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1)
    throw new RangeError(`rate limit window must be a positive integer of seconds: ${windowSeconds}`);

  return createMiddleware<AppEnv>(async (c, next) => {
    const key = options.key(c);
    if (key === undefined) return next();

    const limit = options.limit(c);
    let decision: RateLimitDecision;
    try {
      decision = await c.env.RATE_LIMITER.getByName(`${name}:${key}`).consume(limit, windowSeconds);
    } catch (error) {
      // The key (an IP or user id) is not logged: the limiter name is enough to find the outage.
      log("error", "rate limiter unavailable", { requestId: c.get("requestId"), limiter: name, error: errorName(error) });
      if (options.onLimiterError === "closed")
        throw new HttpError("SERVICE_UNAVAILABLE", "Rate limiting is temporarily unavailable; retry shortly.", {
          headers: { "Retry-After": String(UNAVAILABLE_RETRY_SECONDS) },
        });
      return next();
    }

    if (!decision.allowed)
      throw new HttpError("RATE_LIMITED", `Too many requests; retry in ${decision.retryAfterSeconds} s.`, {
        headers: { ...rateLimitHeaders(decision), "Retry-After": String(decision.retryAfterSeconds) },
      });

    await next();
    // After next(): c.res is final here, including problem responses for errors thrown downstream.
    applyHeaders(c.res.headers, decision);
  });
}

/**
 * The same quota check for code that learns its key only after parsing the body (e.g. a username
 * in a sign-in request). Fails closed: it guards account-level abuse limits.
 */
export async function enforceQuota(
  env: Env,
  quota: { name: string; key: string; limit: number; windowSeconds: number },
): Promise<RateLimitDecision> {
  let decision: RateLimitDecision;
  try {
    decision = await env.RATE_LIMITER.getByName(`${quota.name}:${quota.key}`).consume(quota.limit, quota.windowSeconds);
  } catch (error) {
    log("error", "rate limiter unavailable", { limiter: quota.name, error: errorName(error) });
    throw new HttpError("SERVICE_UNAVAILABLE", "Rate limiting is temporarily unavailable; retry shortly.", {
      headers: { "Retry-After": String(UNAVAILABLE_RETRY_SECONDS) },
    });
  }
  if (!decision.allowed)
    throw new HttpError("RATE_LIMITED", `Too many attempts; retry in ${decision.retryAfterSeconds} s.`, {
      headers: { ...rateLimitHeaders(decision), "Retry-After": String(decision.retryAfterSeconds) },
    });
  return decision;
}
