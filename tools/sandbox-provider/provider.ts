/**
 * The sandbox provider: a local fake of a wearable's OAuth server, data API and webhooks, so the
 * whole Pulse connection flow runs offline (DESIGN §7; docs/providers.md "The sandbox provider").
 * `createSandboxProvider` is a WHATWG `fetch` handler with in-memory state, runnable anywhere;
 * `serveSandboxProvider` (./serve.ts) puts it on node:http.
 */
import { control, data, expireTokens, listAccounts, me, push, revokeTokens } from "./api.ts";
import { json } from "./http.ts";
import { authorize, decide, revoke, token } from "./oauth.ts";
import { createState, type SandboxOptions, type SandboxState } from "./state.ts";

export type { SandboxOptions } from "./state.ts";

export interface SandboxProvider {
  fetch(request: Request): Promise<Response>;
  /** The in-memory state, for tests that need to look inside (accounts, token families). */
  readonly state: SandboxState;
}

const USER_ROUTE = /^\/_sandbox\/users\/([^/]+)\/(control|push|expire-tokens|revoke-tokens)$/;

export function createSandboxProvider(options: SandboxOptions): SandboxProvider {
  const state = createState(options);

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { pathname } = url;
    const method = request.method;
    if (pathname === "/oauth/authorize") {
      if (method === "GET") return authorize(state, url);
      if (method === "POST") return decide(state, request);
      return notAllowed("GET, POST");
    }
    if (pathname === "/oauth/token") return method === "POST" ? token(state, request) : notAllowed("POST");
    if (pathname === "/oauth/revoke") return method === "POST" ? revoke(state, request) : notAllowed("POST");
    if (pathname === "/v1/me") return method === "GET" ? me(state, request) : notAllowed("GET");
    if (pathname.startsWith("/v1/data/")) {
      return method === "GET" ? data(state, request, decodeURIComponent(pathname.slice("/v1/data/".length))) : notAllowed("GET");
    }
    if (pathname === "/_sandbox/control") return method === "POST" ? control(request, state.failures) : notAllowed("POST");
    if (pathname === "/_sandbox/users") return method === "GET" ? listAccounts(state) : notAllowed("GET");
    const user = USER_ROUTE.exec(pathname);
    if (user) {
      if (method !== "POST") return notAllowed("POST");
      const account = state.accounts.get(decodeURIComponent(user[1] ?? ""));
      if (!account) return json({ error: "not_found", error_description: "No such sandbox user." }, 404);
      switch (user[2]) {
        case "control":
          return control(request, account.failures);
        case "push":
          return push(state, request, account);
        case "expire-tokens":
          return expireTokens(state, account);
        default:
          return revokeTokens(state, account);
      }
    }
    if (pathname === "/" && method === "GET") {
      return json({ name: "Pulse sandbox provider", docs: "docs/providers.md#the-sandbox-provider" });
    }
    return json({ error: "not_found" }, 404);
  }

  return {
    state,
    async fetch(request) {
      try {
        return await route(request);
      } catch {
        return json({ error: "server_error" }, 500);
      }
    },
  };
}

function notAllowed(allow: string): Response {
  return json({ error: "method_not_allowed" }, 405, { Allow: allow });
}
