import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../types";

// The API serves JSON; its pages (the web app, /docs) load scripts and styles from this origin only.
const DIRECTIVES: Record<string, string> = {
  "default-src": "'none'",
  "script-src": "'self'",
  "style-src": "'self'",
  "img-src": "'self' data:",
  "connect-src": "'self'",
  "base-uri": "'none'",
  "form-action": "'self'",
  "frame-ancestors": "'none'",
};

/** The policy, with some directives replaced for a page that sets its own (and says why). */
export function contentSecurityPolicy(overrides: Record<string, string> = {}): string {
  return Object.entries({ ...DIRECTIVES, ...overrides })
    .map(([name, value]) => `${name} ${value}`)
    .join("; ");
}

const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

const HEADERS: [string, string][] = Object.entries({
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
});

/**
 * Security headers on every response (DESIGN §3). Responses default to `Cache-Control: no-store`
 * unless a route chose otherwise: anything under /v1 may carry health data, and caching public
 * documents is a decision the route makes explicitly.
 */
export function securityHeaders() {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const headers = c.res.headers;
    for (const [name, value] of HEADERS) {
      // A page that needs a different policy sets its own, as strict (the provider connection
      // pages name the provider's origin in form-action, src/providers/pages.ts).
      if (name === "Content-Security-Policy" && headers.has(name)) continue;
      headers.set(name, value);
    }
    if (!headers.has("Cache-Control") || c.req.path.startsWith("/v1/")) headers.set("Cache-Control", "no-store");
  });
}
