/**
 * What the connection flow's domain functions take (STYLE "thin routes"): the Worker's bindings,
 * D1, the token keyring, the provider settings, who is acting and the clock. Built once per request
 * by the routes (../routes.ts); tests build it directly.
 */
import type { AuditContext } from "../../audit/event";
import { getConfig } from "../../config/config";
import { type Db, getDb } from "../../db/client";
import { getProvidersConfig, type ProvidersConfig } from "../config";
import { type TokenKeyring, tokenKeyringFor } from "../tokens";

export interface ConnectContext {
  env: Env;
  db: Db;
  keyring: TokenKeyring;
  config: ProvidersConfig;
  audit: AuditContext;
  now: Date;
}

export async function connectContext(env: Env, audit: AuditContext, now = new Date()): Promise<ConnectContext> {
  return {
    env,
    db: getDb(env.DB),
    keyring: await tokenKeyringFor(getConfig(env)),
    config: getProvidersConfig(env),
    audit,
    now,
  };
}
