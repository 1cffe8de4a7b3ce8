import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const BASE = "http://localhost";

async function get(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, init);
}

/** Every `api("METHOD", "/v1/…")` / `authorized("METHOD", "/v1/…")` call the portal script makes. */
function endpointsCalledBy(script: string): string[] {
  return [...script.matchAll(/\b(?:api|authorized)\("([A-Z]+)", "(\/v1\/[^"]+)"/g)].map(
    ([, method, path]) => `${method} ${path}`,
  );
}

describe("/portal", () => {
  it("serves an HTML page that loads its script and styles from this origin, nothing inline", async () => {
    const res = await get("/portal");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    const html = await res.text();
    expect(html).toContain("<title>Pulse · Sign in</title>");
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script src="/portal/app.js" defer>']);
    expect(html).toContain('<link rel="stylesheet" href="/portal/style.css">');
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=|javascript:/i);
    for (const id of ["register-username", "register-display-name", "login-username"]) {
      expect(html).toContain(`<label for="${id}"`);
    }
    expect(html).toContain("reloading the page signs you out");
  });

  it("sends the strict CSP and keeps the sign-in page out of every cache", async () => {
    const res = await get("/portal");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
  });

  it("serves a script that writes text only and keeps tokens out of browser storage", async () => {
    const res = await get("/portal/app.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const script = await res.text();
    expect(script).toContain("textContent");
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\("on/);
    expect(script).not.toMatch(/localStorage|sessionStorage|indexedDB|document\.cookie/);
    expect(script).toContain("navigator.credentials.create(");
    expect(script).toContain("navigator.credentials.get(");
  });

  it("calls the passkey, token, account and AI endpoints, each one an operation the API documents", async () => {
    const script = await (await get("/portal/app.js")).text();
    const called = endpointsCalledBy(script);
    expect(called.sort()).toEqual(
      [
        "POST /v1/auth/register/options",
        "POST /v1/auth/register/verify",
        "POST /v1/auth/login/options",
        "POST /v1/auth/login/verify",
        "POST /v1/auth/refresh",
        "POST /v1/auth/logout",
        "GET /v1/me",
        "POST /v1/ai/query",
        "POST /v1/me/deletion/options",
        "POST /v1/me/deletion/verify",
      ].sort(),
    );
    const doc = await (await get("/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
    const undocumented = called.filter((call) => {
      const [method = "", path = ""] = call.split(" ");
      return doc.paths[path]?.[method.toLowerCase()] === undefined;
    });
    expect(undocumented).toEqual([]);
  });

  it("serves the stylesheet as CSS", async () => {
    const res = await get("/portal/style.css");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(await res.text()).toContain("[hidden] { display: none !important; }");
  });

  it("answers HEAD for the page without a body", async () => {
    const res = await get("/portal", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    expect(await res.text()).toBe("");
  });

  it("redirects /portal/ to /portal and refuses writes with 405", async () => {
    const redirect = await get("/portal/", { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("Location")).toBe("/portal");

    const post = await get("/portal", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toContain("GET");
    expect(post.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("keeps its own routes out of the OpenAPI document", async () => {
    const doc = await (await get("/openapi.json")).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths).filter((path) => path.startsWith("/portal"))).toEqual([]);
  });
});
