import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { TrieRouter } from "hono/router/trie-router";
import { ConfigError } from "../config/config";
import { isDependencyUnavailable } from "../db/errors";
import { DomainError, type ErrorCode } from "../errors/domain-error";
import { errorName, log } from "../observability/log";
import { HttpError, problemResponse } from "./errors";
import { bodyFailure, ClientClosedError } from "./middleware/body";
import { isFhirPath, operationOutcomeResponse } from "./operation-outcome";
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

/**
 * Seconds a client is asked to wait when D1, R2 or a Durable Object is briefly unavailable. D1's
 * own object resets take up to a minute to clear; a short wait spreads the retries without making
 * a client that was unlucky once wait that long.
 */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 10;

/** Maps anything thrown to a domain error; unexpected errors become a bare 500. */
function toDomainError(thrown: unknown, c: Context<AppEnv>): DomainError {
  // A failure while the body was read keeps its real reason (src/http/middleware/body.ts).
  const error = bodyFailure(thrown, c);
  if (error instanceof DomainError) return error;
  if (error instanceof ClientClosedError) {
    // Anyone can drop a connection: an info line, not an error (nobody reads this answer anyway).
    log("info", "client_closed", { requestId: requestIdOf(c), route: c.req.routePath });
    return new DomainError("BAD_REQUEST", error.message);
  }
  if (error instanceof HTTPException) {
    // Hono's JSON validator throws a 400 HTTPException for unparsable bodies.
    if (error.status === 400 && /json/i.test(error.message))
      return new DomainError("MALFORMED_JSON", "The request body is not valid JSON.");
    const code = HTTP_EXCEPTION_CODES[error.status];
    if (code) return new DomainError(code, error.message || undefined);
  }
  if (error instanceof ConfigError) {
    // Operators need the setting names; callers get nothing internal.
    log("error", "configuration invalid", { requestId: requestIdOf(c), settings: error.settings, detail: error.message });
    return new DomainError("INTERNAL", "The server is misconfigured.");
  }
  if (isDependencyUnavailable(error)) {
    // The client can retry and succeed, so a 503 with Retry-After, not a 500; still an error line,
    // as an outage must show up in the logs.
    log("error", "dependency unavailable", { requestId: requestIdOf(c), route: c.req.routePath, error: errorName(error) });
    return new DomainError("SERVICE_UNAVAILABLE", "Pulse is briefly unable to reach its storage; retry shortly.", {
      retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS,
    });
  }
  log("error", "unhandled error", { requestId: requestIdOf(c), route: c.req.routePath, error: errorName(error) });
  return new DomainError("INTERNAL", "An unexpected error occurred.");
}

/** problem+json everywhere, except the FHIR API, whose clients expect an OperationOutcome. */
function errorResponse(error: DomainError, c: Context<AppEnv>): Response {
  if (isFhirPath(c.req.path)) return operationOutcomeResponse(error, requestIdOf(c));
  return problemResponse(error, instanceOf(c), requestIdOf(c));
}

export function onError(error: unknown, c: Context<AppEnv>): Response {
  return errorResponse(toDomainError(error, c), c);
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
      const error = new HttpError("METHOD_NOT_ALLOWED", `${c.req.method} is not allowed here; allowed: ${allow}.`, {
        headers: { Allow: allow },
      });
      return errorResponse(error, c);
    }
    return errorResponse(new DomainError("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`), c);
  };
}
