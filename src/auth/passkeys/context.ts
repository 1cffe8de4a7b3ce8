import type { Context } from "hono";
import type { AuditContext } from "../../audit/event";
import type { Config } from "../../config/config";
import { type Db, getDb } from "../../db/client";
import { auditContext } from "../../http/audit-context";
import type { AppEnv } from "../../http/types";

/** What the passkey and recovery domain functions need from a request, explicitly. */
export interface CeremonyContext {
  db: Db;
  config: Config;
  env: Env;
  audit: AuditContext;
  userAgent: string | undefined;
}

export function ceremonyContext(c: Context<AppEnv>): CeremonyContext {
  return {
    db: getDb(c.env.DB),
    config: c.var.config,
    env: c.env,
    audit: auditContext(c),
    userAgent: c.req.header("User-Agent"),
  };
}
