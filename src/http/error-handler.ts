import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { TrieRouter } from "hono/router/trie-router";
import { ConfigError } from "../config/config";
import { AppError, type ErrorCode, problemResponse, reviveAppError } from "./errors";
import { errorName, log } from "./log";
import { bodyFailure, ClientClosedError } from "./middleware/body";
import type { App, AppEnv } from "./types";

const HTTP_EXCEPTION_CODES: Record<number, ErrorCode> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

function instanceOf(c: Context<AppEnv>): string {
  return c.req.path;
}

function requestIdOf(c: Context<AppEnv>): string {
  return c.get("requestId") ?? crypto.randomUUID();
}

/** Maps anything thrown to a problem document; unexpected errors become a bare 500. */
export function toAppError(thrown: unknown, c: Context<AppEnv>): AppError {
  // Errors from Durable Object RPC arrive without their class.
  const error = bodyFailure(reviveAppError(thrown), c);
  if (error instanceof AppError) return error;
  if (error instanceof ClientClosedError) {
    // Anyone can drop a connection: an info line, not an error (nobody reads this answer anyway).
    log("info", "client_closed", { requestId: requestIdOf(c), route: c.req.routePath });
    return new AppError("BAD_REQUEST", error.message);
  }
  if (error instanceof HTTPException) {
    // Hono's JSON validator throws a 400 HTTPException for unparsable bodies.
    if (error.status === 400 && /json/i.test(error.message))
      return new AppError("MALFORMED_JSON", "The request body is not valid JSON.");
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) return new AppError(code, error.message || undefined);
  }
  if (error instanceof ConfigError) {
    // Operators need the setting names; callers get nothing internal.
    log("error", "configuration invalid", { requestId: requestIdOf(c), settings: error.settings, detail: error.message });
    return new AppError("INTERNAL", "The server is misconfigured.");
  }
  log("error", "unhandled error", { requestId: requestIdOf(c), route: c.req.routePath, error: errorName(error) });
  return new AppError("INTERNAL", "An unexpected error occurred.");
}

export function onError(error: unknown, c: Context<AppEnv>): Response {
  return problemResponse(toAppError(error, c), instanceOf(c), requestIdOf(c));
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * 404 for unknown paths, 405 with `Allow` when the path exists under other methods. The router of
 * registered routes is built on first use, after every route has been added.
 */
export function notFoundHandler(app: App) {
  let router: TrieRouter<true> | undefined;
  const routerFor = () => {
    if (!router) {
      router = new TrieRouter<true>();
      for (const route of app.routes) if (route.method !== "ALL") router.add(route.method, route.path, true);
    }
    return router;
  };
  return (c: Context<AppEnv>): Response => {
    const allowed = METHODS.filter((method) => {
      const match = routerFor().match(method === "HEAD" ? "GET" : method, c.req.path);
      return match[0].length > 0;
    });
    if (allowed.length > 0 && !allowed.includes(c.req.method as (typeof METHODS)[number])) {
      const allow = [...allowed, "OPTIONS"].join(", ");
      const error = new AppError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; allowed: ${allow}.`, {
        headers: { Allow: allow },
      });
      return problemResponse(error, instanceOf(c), requestIdOf(c));
    }
    return problemResponse(
      new AppError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`),
      instanceOf(c),
      requestIdOf(c),
    );
  };
}
