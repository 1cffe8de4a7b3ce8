import { cors as honoCors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../types";

const LOCAL_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

/**
 * CORS from an explicit allow-list (CORS_ORIGINS). In development any http://localhost:<port> or
 * http://127.0.0.1:<port> origin is also accepted (DESIGN §4). Unlisted origins get no CORS
 * headers at all, so browsers refuse to share the response; credentials only for listed origins.
 */
export function cors() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { CORS_ORIGINS, ENVIRONMENT } = c.var.config;
    const allowed = (origin: string) =>
      CORS_ORIGINS.includes(origin) || (ENVIRONMENT !== "production" && LOCAL_ORIGIN.test(origin));
    const handler = honoCors({
      origin: (origin) => (allowed(origin) ? origin : null),
      credentials: true,
      allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "DPoP", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "Location"],
      maxAge: 600,
    });
    return handler(c, next);
  });
}
