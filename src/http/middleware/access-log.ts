import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { log } from "../../observability/log";
import type { AppEnv } from "../types";

/** The route pattern that handled the request (`/v1/uploads/:id`), never the concrete path. */
function routePattern(c: Context<AppEnv>): string {
  const handlers = c.req.matchedRoutes.filter((route) => route.method !== "ALL");
  return handlers.at(-1)?.path ?? "(unmatched)";
}

/** One JSON line per request: method, route pattern, status, duration, request id, user id. */
export function accessLog() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    log("info", "request", {
      method: c.req.method,
      route: routePattern(c),
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
      requestId: c.get("requestId"),
      userId: c.get("userId") ?? null,
    });
  });
}
