import type { View } from "./view.ts";

/**
 * Every page of the signed-in app, in navigation order. Each view is its own module, loaded when
 * first visited, so the dashboard's weight does not include the other pages.
 */
export interface Route {
  readonly path: string;
  readonly label: string;
  readonly load: () => Promise<{ default: View }>;
}

export const ROUTES: readonly Route[] = [
  { path: "dashboard", label: "Dashboard", load: () => import("./views/dashboard.ts") },
  { path: "upload", label: "Upload", load: () => import("./views/upload.ts") },
  { path: "connections", label: "Connections", load: () => import("./views/connections.ts") },
  { path: "sharing", label: "Sharing", load: () => import("./views/sharing.ts") },
  { path: "access-log", label: "Access log", load: () => import("./views/access-log.ts") },
  { path: "ask", label: "Ask", load: () => import("./views/ask.ts") },
  { path: "account", label: "Account", load: () => import("./views/account.ts") },
];

export const DEFAULT_ROUTE = "dashboard";

/** `#/dashboard?range=week` → { path: "dashboard", query: range=week }. */
export function parseHash(hash: string): { path: string; query: URLSearchParams } {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  return { path: path === "" ? DEFAULT_ROUTE : path, query: new URLSearchParams(query) };
}
