import { cors as honoCors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../types";

const LOCAL_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1)(:\d{1,5})?$/;

const CORS_OPTIONS = {
  credentials: true,
  allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  allowHeaders: ["Authorization", "Content-Type", "DPoP", "X-Request-Id"],
  exposeHeaders: ["X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "Location"],
  maxAge: 600,
};

/**
 * CORS from an explicit allow-list (CORS_ORIGINS). Outside production any http://localhost:<port>
 * or http://127.0.0.1:<port> origin is also accepted (DESIGN §4). A request from an unlisted
 * origin gets no CORS headers at all, so browsers refuse to share the response, and credentials
 * are only ever allowed for listed origins.
 */
export function cors() {
  // Built once: only reached for an origin already checked against the allow-list, which it echoes.
  const allowListed = honoCors({ ...CORS_OPTIONS, origin: (origin) => origin });
  return createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header("Origin");
    const { CORS_ORIGINS, ENVIRONMENT } = c.var.config;
    const allowed =
      origin !== undefined && (CORS_ORIGINS.includes(origin) || (ENVIRONMENT !== "production" && LOCAL_ORIGIN.test(origin)));
    if (!allowed) {
      await next();
      c.res.headers.append("Vary", "Origin");
      return;
    }
    return allowListed(c, next);
  });
}
