/**
 * What the provider sync jobs run with (DESIGN §7): D1, the token keyring, the bindings, and how to
 * find a provider's driver and its client credentials. The lookups are parameters so the jobs run
 * against any `ProviderDriver` — the registered ones in production, a test's own driver over a
 * `fetch` interceptor in tests.
 */
import type { AuditContext } from "../../audit/event";
import { getConfig } from "../../config/config";
import { type Db, getDb } from "../../db/client";
import { driverContextFor as configuredContext, getProvidersConfig } from "../config";
import type { ConnectionsContext } from "../connections";
import type { DriverContext, ProviderDriver } from "../driver";
import { driverFor } from "../drivers";
import type { ProviderName } from "../registry";
import { tokenKeyringFor } from "../tokens";

export interface SyncDeps {
  driverFor(provider: ProviderName): ProviderDriver;
  driverContext(provider: ProviderName): DriverContext;
  /** The clock; tests pin it. */
  now(): Date;
}

export interface SyncContext extends ConnectionsContext {
  env: Env;
  db: Db;
  deps: SyncDeps;
}

export function defaultDeps(env: Env): SyncDeps {
  return {
    driverFor,
    driverContext: (provider) => configuredContext(getProvidersConfig(env), provider),
    now: () => new Date(),
  };
}

export async function syncContext(env: Env, deps: Partial<SyncDeps> = {}): Promise<SyncContext> {
  return {
    env,
    db: getDb(env.DB),
    keyring: await tokenKeyringFor(getConfig(env)),
    deps: { ...defaultDeps(env), ...deps },
  };
}

/** Who acts in the security chain when a background job changes a connection. */
export const REFRESH_ACTOR: AuditContext = {
  actor: "system:provider.refresh",
  role: "system",
  reason: null,
  requestId: null,
  ip: null,
};

export const SYNC_ACTOR: AuditContext = { ...REFRESH_ACTOR, actor: "system:provider.sync" };
