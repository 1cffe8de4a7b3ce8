import type { Context } from "hono";
import type { AuditContext } from "../../audit/event";
import type { Config } from "../../config/config";
import { type Db, getDb } from "../../db/client";
import { auditContext } from "../../http/audit-context";
import type { AppEnv } from "../../http/types";
import { ipRateLimitKey } from "../../rate-limit/middleware";

/** What the passkey and recovery domain functions need from a request, explicitly. */
export interface CeremonyContext {
  db: Db;
  config: Config;
  env: Env;
  audit: AuditContext;
  userAgent: string | undefined;
  /** The caller's address as per-IP quotas count it (an IPv6 /64 as one client). */
  client: string;
}

export function ceremonyContext(c: Context<AppEnv>): CeremonyContext {
  return {
    db: getDb(c.env.DB),
    config: c.var.config,
    env: c.env,
    audit: auditContext(c),
    userAgent: c.req.header("User-Agent"),
    client: ipRateLimitKey(c),
  };
}
