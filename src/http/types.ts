import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../config/config";
import type { UserRole } from "../db/schema/users";

/** The one Hono environment type: bindings from `wrangler types`, per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    /** Set by authentication; logged, never the token. */
    userId?: string;
    /** Who is calling, set by `requireAuth()` (src/auth/middleware.ts). */
    auth?: AuthContext;
  };
}

export type App = OpenAPIHono<AppEnv>;

/** An authenticated caller: a user's session, or one of their device credentials. */
export interface AuthContext {
  userId: string;
  role: UserRole;
  kind: "session" | "device";
  /** Set for sessions. */
  sessionId?: string;
  /** Set for device credentials. */
  deviceId?: string;
  scopes: string[];
}
