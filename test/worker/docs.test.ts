import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const BASE = "http://localhost";

describe("/docs", () => {
  it("serves an HTML page that loads its script and styles from this origin", async () => {
    const res = await exports.default.fetch(`${BASE}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    const html = await res.text();
    expect(html).toContain("<title>Pulse API reference</title>");
    expect(html).toContain('<script src="/docs/app.js" defer></script>');
    expect(html).toContain('<link rel="stylesheet" href="/docs/style.css">');
    // The CSP allows neither inline scripts nor inline styles.
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script src="/docs/app.js" defer>']);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
  });

  it("sends the strict CSP and security headers with the page", async () => {
    const res = await exports.default.fetch(`${BASE}/docs`);
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
  });

  it("serves the script as JavaScript with a short public cache", async () => {
    const res = await exports.default.fetch(`${BASE}/docs/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    const script = await res.text();
    expect(script).toContain('fetch("/openapi.json"');
    // Spec text reaches the page as text nodes only.
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    expect(script.length).toBeLessThan(40_000);
  });

  it("serves the stylesheet as CSS", async () => {
    const res = await exports.default.fetch(`${BASE}/docs/style.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    expect(await res.text()).toContain(".op-head");
  });

  it("answers HEAD for the page without a body", async () => {
    const res = await exports.default.fetch(`${BASE}/docs`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=UTF-8");
    expect(await res.text()).toBe("");
  });

  it("redirects /docs/ to /docs", async () => {
    const res = await exports.default.fetch(`${BASE}/docs/`, { redirect: "manual" });
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe("/docs");
  });

  it("answers an unknown asset with a problem document", async () => {
    const res = await exports.default.fetch(`${BASE}/docs/missing.js`);
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "NOT_FOUND" });
  });

  it("refuses writes with 405", async () => {
    const res = await exports.default.fetch(`${BASE}/docs`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toContain("GET");
  });

  it("keeps its own routes out of the OpenAPI document it renders", async () => {
    const res = await exports.default.fetch(`${BASE}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await res.json<{ paths: Record<string, unknown> }>();
    expect(doc.paths["/health"]).toBeDefined();
    expect(Object.keys(doc.paths).filter((path) => path.startsWith("/docs"))).toEqual([]);
  });
});
