import type { App } from "../http/types";
import { DOCS_PAGE } from "./page";
import { DOCS_SCRIPT } from "./script";
import { DOCS_STYLE } from "./style";

// Public, data-free documents: a short shared cache keeps deploys visible within minutes.
const CACHE = "public, max-age=300";

/**
 * The API reference at /docs (DESIGN §3). Plain `app.get` keeps these routes out of the OpenAPI
 * document they render.
 */
export function registerDocsRoutes(app: App): void {
  app.get("/docs", (c) => c.html(DOCS_PAGE, 200, { "Cache-Control": CACHE }));
  app.get("/docs/", (c) => c.redirect("/docs", 301));
  app.get("/docs/app.js", (c) =>
    c.body(DOCS_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": CACHE }),
  );
  app.get("/docs/style.css", (c) =>
    c.body(DOCS_STYLE, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": CACHE }),
  );
}
