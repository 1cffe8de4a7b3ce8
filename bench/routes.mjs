// The three routes the bench compares (bench/worker.ts serves the first two), and the checks that
// make sure each one takes the path it claims before any figure is believed.
import { probe } from "./load.mjs";

// An allowed origin, so the CORS middleware does its full work (origin check, response headers)
// as it would for the portal in a browser.
const ORIGIN = "http://localhost:8787";

export const ROUTES = [
  { key: "bare", id: "(a)", label: "bare Response", path: "/__bench/bare", headers: { Origin: ORIGIN } },
  { key: "stack", id: "(b)", label: "middleware stack", path: "/v1/__bench/stack", headers: { Origin: ORIGIN } },
  { key: "unlimited", id: "(b')", label: "stack, no limiter", path: "/__bench/stack", headers: { Origin: ORIGIN } },
  { key: "health", id: "(c)", label: "GET /health", path: "/health", headers: { Origin: ORIGIN } },
];

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * One request per route: each must answer 2xx, the bare route must bypass Hono (no request id)
 * and the stack route must show every middleware's mark. Returns notes worth printing.
 */
export async function checkRoutes(baseUrl) {
  const seen = {};
  for (const route of ROUTES) {
    const res = await probe(new URL(route.path, baseUrl).href, route.headers);
    expect(res.status >= 200 && res.status < 300, `${route.path} answered ${res.status}: ${res.body.slice(0, 300)}`);
    seen[route.key] = res;
  }
  expect(seen.bare.headers["x-request-id"] === undefined, "/__bench/bare went through Hono (it carries X-Request-Id)");
  const stack = seen.stack.headers;
  expect(stack["x-request-id"] !== undefined, "/v1/__bench/stack has no X-Request-Id: request-id middleware not applied");
  expect(stack["x-content-type-options"] === "nosniff", "/v1/__bench/stack lacks security headers");
  expect(stack["access-control-allow-origin"] === ORIGIN, "/v1/__bench/stack lacks CORS headers for an allowed origin");
  expect(seen.unlimited.headers["x-request-id"] !== undefined, "/__bench/stack has no X-Request-Id: middleware not applied");
  expect(JSON.parse(seen.health.body).status === "ok", `/health is not ok: ${seen.health.body.slice(0, 300)}`);

  // The per-IP limit on /v1/* is the rate-limiting binding: allowed requests carry no headers, so
  // only its 429 would show it; (b) includes its cost all the same.
  return ["per-IP limit on /v1/*: Cloudflare rate-limiting binding (src/rate-limit/ip-limit.ts); (b) includes it"];
}
