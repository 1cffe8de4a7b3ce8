import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

/**
 * The API reference at /docs: Scalar bundled by scripts/build-web.mjs (web/src/docs) into the
 * static assets the Worker serves (npm run test:worker builds them first). What it renders is
 * tested in Chromium (test/browser/docs.test.ts); here, the page, its headers and its files.
 */
const BASE = "http://localhost";

async function docsPage(): Promise<{ res: Response; html: string }> {
  const res = await exports.default.fetch(`${BASE}/docs`);
  return { res, html: await res.text() };
}

function directives(csp: string): Map<string, string> {
  return new Map(csp.split(";").map((part) => part.trim().split(/\s+(.*)/s, 2) as [string, string]));
}

describe("/docs", () => {
  it("serves a page that names its hashed bundles and carries no inline script or style", async () => {
    const { res, html } = await docsPage();
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    // Not cached: after a deploy, a cached page would name hashed files that no longer exist.
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(html).toContain("<title>Pulse API reference</title>");
    expect(html).toMatch(/<script type="module" src="\/assets\/docs-[A-Z0-9]{8}\.js"><\/script>/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/assets\/docs-[A-Z0-9]{8}\.css">/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(html).toContain('<a href="/openapi.json">');
  });

  it("allows inline styles for Scalar on /docs only, and nothing else beyond the API's policy", async () => {
    const { res } = await docsPage();
    const docs = directives(res.headers.get("Content-Security-Policy") ?? "");
    expect(docs.get("style-src")).toBe("'self' 'unsafe-inline'");
    expect(docs.get("script-src")).toBe("'self'");
    expect(docs.get("connect-src")).toBe("'self'");
    expect(docs.get("default-src")).toBe("'none'");
    expect(docs.get("img-src")).toBe("'self' data:");
    expect(docs.get("frame-ancestors")).toBe("'none'");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();

    // The API and the app keep the strict policy.
    for (const path of ["/app", "/health"]) {
      const other = directives((await exports.default.fetch(`${BASE}${path}`)).headers.get("Content-Security-Policy") ?? "");
      expect(other.get("style-src"), path).toBe("'self'");
    }
  });

  it("serves Scalar from this origin's hashed files, with no eval in the entry", async () => {
    const { html } = await docsPage();
    const script = /src="(\/assets\/docs-[^"]+\.js)"/.exec(html)?.[1] ?? "/assets/missing.js";
    const res = await exports.default.fetch(`${BASE}${script}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("javascript");
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    const body = await res.text();
    expect(body).toContain("/openapi.json");
    expect(body).toContain("jitless");
  });

  it("answers HEAD for the page without a body", async () => {
    const res = await exports.default.fetch(`${BASE}/docs`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe("");
  });

  it("redirects /docs/ to /docs", async () => {
    const res = await exports.default.fetch(`${BASE}/docs/`, { redirect: "manual" });
    expect(res.status).toBe(301);
    expect(res.headers.get("Location")).toBe("/docs");
  });

  it("no longer serves the old renderer's files", async () => {
    for (const path of ["/docs/app.js", "/docs/style.css"]) {
      const res = await exports.default.fetch(`${BASE}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    }
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
