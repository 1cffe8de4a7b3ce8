import type { App } from "../http/types";
import { PORTAL_PAGE } from "./page";
import { PORTAL_SCRIPT } from "./script";
import { PORTAL_STYLE } from "./style";

// A sign-in page is never cached: a deploy that changes a ceremony must reach every browser at once,
// and a no-store page also stays out of the back/forward cache, so in-memory tokens end with the page.
const NO_STORE = "no-store";

/**
 * The demo sign-in portal at /portal (DESIGN §10): register with a passkey, see the recovery codes
 * once, sign in again, read /v1/me, sign out. Plain `app.get` keeps it out of /openapi.json.
 */
export function registerPortalRoutes(app: App): void {
  app.get("/portal", (c) => c.html(PORTAL_PAGE, 200, { "Cache-Control": NO_STORE }));
  app.get("/portal/", (c) => c.redirect("/portal", 301));
  app.get("/portal/app.js", (c) =>
    c.body(PORTAL_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": NO_STORE }),
  );
  app.get("/portal/style.css", (c) =>
    c.body(PORTAL_STYLE, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": NO_STORE }),
  );
}
