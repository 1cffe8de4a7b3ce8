import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../http/types";

export interface RateLimitOptions {
  name: string;
  windowSeconds: number;
  limit: (c: Context<AppEnv>) => number;
  key: (c: Context<AppEnv>) => string | undefined;
}

export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

export function rateLimit(_options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  return async (_c, next) => next();
}
