import { describe, expect, it } from "vitest";
import { call, createTestApp } from "./helpers/test-app";

/**
 * The web app's pages and files, served by the Worker from the static assets that
 * scripts/build-web.mjs builds (npm run test:worker builds them first).
 */
const app = createTestApp();

async function page(): Promise<{ res: Response; html: string }> {
  const res = await call(app, "/app");
  return { res, html: await res.text() };
}

describe("the web app", () => {
  it("serves its page uncached, under the API's CSP, naming hashed bundles", async () => {
    const { res, html } = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    // No inline script or style: every script and stylesheet is a file of this origin.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    expect(html).toMatch(/<script type="module" src="\/assets\/app-[A-Z0-9]{8}\.js"><\/script>/);
    expect(html).toMatch(/<link rel="stylesheet" href="\/assets\/app-[A-Z0-9]{8}\.css">/);
  });

  it("serves the hashed files with a year-long immutable cache and their types", async () => {
    const { html } = await page();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    for (const [path, type] of [
      [script, "javascript"],
      [style, "text/css"],
    ] as const) {
      const res = await call(app, path ?? "/assets/missing.js");
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toContain(type);
      expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
      expect((await res.text()).length).toBeGreaterThan(100);
    }
  });

  it("answers 404 problem+json for files that do not exist or names outside the asset grammar", async () => {
    for (const path of ["/assets/app-NOPE0000.js", "/assets/..%2Fapp.html", "/assets/app.html", "/assets/.assetsignore"]) {
      const res = await call(app, path);
      expect(res.status).toBe(404);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });

  it("sends the site root and /app/ to the app", async () => {
    const root = await call(app, "/");
    expect(root.status).toBe(302);
    expect(root.headers.get("Location")).toBe("/app");
    const slash = await call(app, "/app/");
    expect(slash.status).toBe(301);
    expect(slash.headers.get("Location")).toBe("/app");
  });

  it("sends the retired portal's address to the app, and serves none of its files", async () => {
    for (const path of ["/portal", "/portal/"]) {
      const res = await call(app, path);
      expect(res.status, path).toBe(301);
      expect(res.headers.get("Location")).toBe("/app");
    }
    for (const path of ["/portal/app.js", "/portal/style.css"]) {
      const res = await call(app, path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });
});
