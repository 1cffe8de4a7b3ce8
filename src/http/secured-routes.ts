import type { Context } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import type { App, AppEnv } from "./types";

/**
 * Whether a request is for a route that authenticates its caller: one whose OpenAPI description
 * names a security requirement (every `requireAuth()` route declares one, for the API reference).
 * Built from the registry on first use, after every route has been added.
 */
export function authenticatedRoutes(app: App): (c: Context<AppEnv>) => boolean {
  let router: TrieRouter<true> | undefined;
  const build = (): TrieRouter<true> => {
    const built = new TrieRouter<true>();
    for (const definition of app.openAPIRegistry.definitions) {
      if (definition.type !== "route") continue;
      const { method, path, security } = definition.route;
      if (!security?.some((requirement) => Object.keys(requirement).length > 0)) continue;
      built.add(method.toUpperCase(), path.replaceAll(/\/{(.+?)}/g, "/:$1"), true);
    }
    return built;
  };
  return (c) => {
    router ??= build();
    return router.match(c.req.method, c.req.path)[0].length > 0;
  };
}
