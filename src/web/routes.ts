import type { Context } from "hono";
import { DomainError } from "../errors/domain-error";
import { contentSecurityPolicy } from "../http/middleware/security-headers";
import type { App, AppEnv } from "../http/types";

/**
 * The web app and the API reference (web/, built by scripts/build-web.mjs into Workers static
 * assets). The Worker serves them itself (`run_worker_first`), so every page and file carries the
 * same security headers and CSP as the API (script and style from this origin only, unless a page
 * below says otherwise and why), and the caching is decided here:
 * - the app's page is never cached: a deploy that changes a ceremony or names new bundles reaches
 *   every browser at once, and a no-store page stays out of the back/forward cache, so in-memory
 *   tokens end with the page;
 * - hashed files never change under their name, so browsers keep them for a year.
 * Plain `app.get` keeps these routes out of /openapi.json.
 */
const ASSET_CACHE = "public, max-age=31536000, immutable";
const ASSET_NAME = /^[A-Za-z0-9_-]{1,100}\.(?:js|css|svg|png|woff2)$/;

interface Page {
  file: string;
  cache: string;
  /** A policy of its own, when the page needs one; otherwise the API's (security-headers.ts). */
  csp?: string;
}

const PAGES: Record<string, Page> = {
  "/app": { file: "/app.html", cache: "no-store" },
  // The API reference (Scalar, web/src/docs): public and data-free, yet not cached either: a deploy
  // replaces the hashed files, and a page cached from the previous one would name files that are
  // gone. Scalar (Vue) puts its theme in a <style> element and renders
  // style attributes, so this page alone allows inline styles. Scripts stay 'self' (no inline
  // script, no eval), and with connect-src, img-src and font-src limited to this origin an
  // injected style has nowhere to send what it reads. /app keeps style-src 'self'.
  "/docs": {
    file: "/docs.html",
    cache: "no-store",
    csp: contentSecurityPolicy({ "style-src": "'self' 'unsafe-inline'" }),
  },
};

async function fromAssets(c: Context<AppEnv>, path: string): Promise<Response | null> {
  const response = await c.env.ASSETS.fetch(new URL(path, c.req.url));
  if (!response.ok) {
    await response.body?.cancel();
    return null;
  }
  return response;
}

export function registerWebRoutes(app: App): void {
  app.get("/", (c) => c.redirect("/app", 302));
  // The web app replaced the sign-in portal: old bookmarks and links land on it.
  app.get("/portal", (c) => c.redirect("/app", 301));
  app.get("/portal/", (c) => c.redirect("/app", 301));
  for (const [path, { file, cache, csp }] of Object.entries(PAGES)) {
    app.get(`${path}/`, (c) => c.redirect(path, 301));
    app.get(path, async (c) => {
      const page = await fromAssets(c, file);
      if (page === null) {
        throw new DomainError("SERVICE_UNAVAILABLE", "The web app is not built: run `npm run build:web`.", {
          retryAfterSeconds: 30,
        });
      }
      const headers: Record<string, string> = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": cache };
      if (csp !== undefined) headers["Content-Security-Policy"] = csp;
      return new Response(page.body, { status: 200, headers });
    });
  }
  app.get("/assets/:file", async (c) => {
    const name = c.req.param("file");
    const asset = ASSET_NAME.test(name) ? await fromAssets(c, `/assets/${name}`) : null;
    if (asset === null) throw new DomainError("NOT_FOUND", "No such file.");
    return new Response(asset.body, {
      status: 200,
      headers: { "Content-Type": asset.headers.get("Content-Type") ?? "application/octet-stream", "Cache-Control": ASSET_CACHE },
    });
  });
}
