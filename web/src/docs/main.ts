/**
 * The API reference at /docs: Scalar's renderer for /openapi.json, bundled into Pulse's own assets
 * (no CDN) and configured so the page talks to this origin only — no web fonts, no telemetry, no
 * proxy (try-it-out calls the API directly, on the same origin), no hosted AI agent or MCP button,
 * no developer toolbar. The token a person enters for try-it-out stays in the page's memory.
 */
import "@scalar/api-reference/style.css";
import "./docs.css";
import { config } from "zod";

// Zod (inside Scalar) probes for `new Function` to compile faster validators. The CSP has no
// 'unsafe-eval', so the probe would be blocked and reported as a violation; jitless skips it. It
// must be set before Scalar's modules run (they validate as they load), hence the dynamic import.
config({ jitless: true });
const { createApiReference } = await import("@scalar/api-reference");

const root = document.getElementById("reference");
if (root !== null) {
  createApiReference(root, {
    url: "/openapi.json",
    withDefaultFonts: false,
    telemetry: false,
    persistAuth: false,
    hideClientButton: true,
    showDeveloperTools: "never",
    agent: { disabled: true },
    mcp: { disabled: true },
    documentDownloadType: "json",
    authentication: { preferredSecurityScheme: "bearerAuth" },
    defaultHttpClient: { targetKey: "shell", clientKey: "curl" },
  });
}
