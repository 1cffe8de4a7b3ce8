import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../types";

export const REQUEST_ID_HEADER = "X-Request-Id";

// Accept a caller's id only when it is short and plain, so it cannot inject into logs or headers.
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Echoes a valid incoming `X-Request-Id`, otherwise generates one; every response carries it. */
export function requestId() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const id = incoming && VALID_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set(REQUEST_ID_HEADER, id);
  });
}
