// The three routes the bench compares (bench/worker.ts serves the first two), and the checks that
// make sure each one takes the path it claims before any figure is believed.
import { probe } from "./load.mjs";

// An allowed origin, so the CORS middleware does its full work (origin check, response headers)
// as it would for the web app in a browser.
const ORIGIN = "http://localhost:8787";

// The per-IP limit on /v1/* allows 600 requests a minute per address. The stack route gives every
// request its own client address (as CF-Connecting-IP), so the limiter counts each one in full
// without ever refusing and the bench measures the limiter's real cost.
let client = 0;
const freshClient = () => {
  client = (client + 1) % 16_777_216;
  return { Origin: ORIGIN, "CF-Connecting-IP": `10.${client >> 16}.${(client >> 8) & 255}.${client & 255}` };
};

export const ROUTES = [
  { key: "bare", id: "(a)", label: "bare Response", path: "/__bench/bare", headers: { Origin: ORIGIN } },
  { key: "stack", id: "(b)", label: "middleware stack", path: "/v1/__bench/stack", headers: freshClient },
  { key: "unlimited", id: "(b')", label: "stack, no limiter", path: "/__bench/stack", headers: { Origin: ORIGIN } },
  { key: "health", id: "(c)", label: "GET /health", path: "/health", headers: { Origin: ORIGIN } },
  {
    key: "authed",
    id: "(d)",
    label: "authenticated route",
    path: "/v1/__bench/authed",
    headers: () => ({ ...freshClient(), Authorization: `Bearer ${accessToken}` }),
  },
];

let accessToken = "";

/** Signs a bench user in (bench/worker.ts writes the session directly) for the authenticated route. */
export async function prepareRoutes(baseUrl) {
  const res = await fetch(new URL("/__bench/session", baseUrl), { method: "POST" });
  expect(res.ok, `could not create the bench session: ${res.status} ${await res.clone().text()}`);
  ({ accessToken } = await res.json());
}

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
    const headers = typeof route.headers === "function" ? route.headers() : route.headers;
    const res = await probe(new URL(route.path, baseUrl).href, headers);
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

  const limit = stack["ratelimit-limit"];
  expect(limit !== undefined, "/v1/__bench/stack has no RateLimit-* headers: the per-IP limit is not applied");
  expect(seen.unlimited.headers["ratelimit-limit"] === undefined, "/__bench/stack is rate limited; it should be outside /v1/*");
  return [`per-IP limit active on /v1/* (RateLimit-Limit: ${limit}); (b) includes its cost`];
}
