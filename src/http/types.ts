import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../config/config";

/** The one Hono environment type: bindings from `wrangler types`, per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    /** Set by authentication once identity lands; logged, never the token. */
    userId?: string;
  };
}

export type App = OpenAPIHono<AppEnv>;
