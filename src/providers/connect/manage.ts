/**
 * The signed-in person's view of their connections: the list (with what could be connected and
 * what cannot, and why), a manual sync, and disconnecting (revoke at the provider, delete the
 * tokens, optionally delete the provider's data from the HealthStore).
 */
import { healthStoreFor } from "../../../durable-objects/health-store/client";
import type { DeletedSource } from "../../../durable-objects/health-store/delete-source";
import type { ConnectionStatus } from "../../db/schema";
import { DomainError } from "../../errors/domain-error";
import { errorName, log } from "../../observability/log";
import { configuredProviders, driverContextFor } from "../config";
import { connectionTokens, findConnection, listConnections, markConnectionStatus } from "../connections";
import { DRIVERS } from "../drivers";
import { isProviderName, type ProviderName, providerFacts, UNAVAILABLE_PROVIDERS } from "../registry";
import { deleteWebhookEvents } from "../webhooks/events";
import type { ConnectContext } from "./context";
import { backfillRange, enqueueSync } from "./finish";

const DAY_MS = 86_400_000;
/** A manual sync reaches back at most this far in one request. */
export const MAX_SYNC_DAYS = 366;
/** Providers' clocks and time zones: `until` may lie a day ahead, no further. */
const FUTURE_SLACK_MS = DAY_MS;

export interface ConnectionView {
  provider: ProviderName;
  displayName: string;
  status: ConnectionStatus;
  scopes: string[];
  connectedAt: string;
  lastSyncAt: string | null;
  lastError: { code: string; message: string } | null;
}

export interface ConnectionsOverview {
  connections: ConnectionView[];
  available: { provider: ProviderName; displayName: string; connected: boolean }[];
  unavailable: { provider: string; reason: string }[];
}

/** The HealthStore `sourceApp` of a provider's data: the mappings write `google_health` for `google-health`. */
export function providerSourceApp(provider: ProviderName): string {
  return provider.replaceAll("-", "_");
}

/**
 * Removes what else Pulse keeps of a user's provider data when they ask for it to go: the stored
 * webhook payloads (R2) and their rows. Each runs after the HealthStore deletion.
 */
export type ProviderDataRemover = (env: Env, userId: string, provider: ProviderName) => Promise<void>;
export const PROVIDER_DATA_REMOVERS: readonly ProviderDataRemover[] = [
  async (env, userId, provider) => {
    await deleteWebhookEvents(env, { userId, provider });
  },
];

function knownProvider(name: string): ProviderName {
  if (!isProviderName(name)) throw new DomainError("NOT_FOUND", "No such connection.");
  return name;
}

export async function connectionOverview(ctx: ConnectContext, userId: string): Promise<ConnectionsOverview> {
  const rows = await listConnections(ctx.db, userId);
  const connected = new Set(rows.map((row) => row.provider));
  return {
    connections: rows.map((row) => ({
      provider: row.provider,
      displayName: providerFacts(row.provider).displayName,
      status: row.status,
      scopes: row.scopes,
      connectedAt: row.createdAt.toISOString(),
      lastSyncAt: row.lastSyncAt?.toISOString() ?? null,
      lastError:
        row.lastErrorCode === null ? null : { code: row.lastErrorCode, message: row.lastErrorMessage ?? row.lastErrorCode },
    })),
    available: configuredProviders(ctx.config)
      .filter((provider) => DRIVERS[provider] !== undefined)
      .map((provider) => ({ provider, displayName: providerFacts(provider).displayName, connected: connected.has(provider) })),
    unavailable: Object.entries(UNAVAILABLE_PROVIDERS).map(([provider, reason]) => ({ provider, reason })),
  };
}

export interface Disconnected {
  provider: ProviderName;
  status: "revoked";
  revokedAtProvider: boolean;
  dataDeleted: DeletedSource | null;
}

/**
 * Disconnects: the provider's data first when asked (so a failure there leaves the connection in
 * place and the request can be repeated), then revocation at the provider (best effort: a
 * provider that fails is recorded on the row, the disconnect still happens), then the tokens.
 */
export async function disconnect(
  ctx: ConnectContext,
  userId: string,
  providerName: string,
  data: "keep" | "delete",
): Promise<Disconnected> {
  const provider = knownProvider(providerName);
  const row = await findConnection(ctx.db, userId, provider);
  if (!row) throw new DomainError("NOT_FOUND", "No such connection.");

  let dataDeleted: DeletedSource | null = null;
  if (data === "delete") {
    dataDeleted = await deleteProviderData(ctx, userId, provider);
    for (const remove of PROVIDER_DATA_REMOVERS) await remove(ctx.env, userId, provider);
  }

  const revokedAtProvider = await revokeAtProvider(ctx, row);
  await markConnectionStatus(
    ctx,
    userId,
    provider,
    revokedAtProvider || providerFacts(provider).oauth?.revocation.style === "none"
      ? { status: "revoked" }
      : {
          status: "revoked",
          error: { code: "PROVIDER_REVOKE_FAILED", message: "The provider could not be told; remove Pulse's access there too." },
        },
    ctx.audit,
  );
  if (dataDeleted !== null) {
    // A sync that was storing a page while the data above was deleted may have put some back; it
    // checks the connection before each page (../sync/sync.ts), and from here on finds it revoked.
    const late = await deleteProviderData(ctx, userId, provider);
    dataDeleted = {
      observations: dataDeleted.observations + late.observations,
      sleepSessions: dataDeleted.sleepSessions + late.sleepSessions,
      workouts: dataDeleted.workouts + late.workouts,
    };
  }
  return { provider, status: "revoked", revokedAtProvider, dataDeleted };
}

function deleteProviderData(ctx: ConnectContext, userId: string, provider: ProviderName): Promise<DeletedSource> {
  return healthStoreFor(ctx.env.HEALTH_STORE, userId).deleteSource(
    { sourceKind: "provider", sourceApp: providerSourceApp(provider) },
    { ...ctx.audit, subject: userId },
  );
}

async function revokeAtProvider(
  ctx: ConnectContext,
  row: NonNullable<Awaited<ReturnType<typeof findConnection>>>,
): Promise<boolean> {
  const driver = DRIVERS[row.provider];
  if (!driver || row.accessTokenCiphertext === null || providerFacts(row.provider).oauth?.revocation.style === "none")
    return false;
  try {
    const context = driverContextFor(ctx.config, row.provider);
    const tokens = await connectionTokens(ctx.keyring, row);
    if (driver.subscriptions && row.providerUserId !== null) {
      await driver.subscriptions.remove(context, tokens.accessToken, row.providerUserId);
    }
    // Withings revokes by user id, not by token.
    await driver.revoke(context, { ...tokens, ...(row.providerUserId === null ? {} : { providerUserId: row.providerUserId }) });
    return true;
  } catch (error) {
    log("warn", "provider revocation failed", { provider: row.provider, error: errorName(error) });
    return false;
  }
}

export interface SyncRequest {
  since?: string | undefined;
  until?: string | undefined;
}

/** Enqueues one manual `provider.sync` of `[since, until)`; answers the range it asked for. */
export async function requestSync(
  ctx: ConnectContext,
  userId: string,
  providerName: string,
  input: SyncRequest,
): Promise<{ provider: ProviderName; since: string; until: string }> {
  const provider = knownProvider(providerName);
  const row = await findConnection(ctx.db, userId, provider);
  if (!row) throw new DomainError("NOT_FOUND", "No such connection.");
  if (row.status === "reauth_required") {
    throw new DomainError("CONFLICT", "The provider no longer accepts Pulse's access; connect it again, then sync.");
  }
  const now = ctx.now.getTime();
  const until = input.until === undefined ? now : Date.parse(input.until);
  const since =
    input.since !== undefined
      ? Date.parse(input.since)
      : row.lastSyncAt !== null
        ? row.lastSyncAt.getTime() - DAY_MS
        : backfillRange(provider, ctx.now).since.getTime();
  const errors: { path: string; message: string }[] = [];
  if (until > now + FUTURE_SLACK_MS) errors.push({ path: "until", message: "must be at most one day from now" });
  if (since >= until) errors.push({ path: "since", message: "must be before until" });
  else if (until - since > MAX_SYNC_DAYS * DAY_MS)
    errors.push({ path: "since", message: `must be at most ${MAX_SYNC_DAYS} days before until` });
  if (errors.length > 0) throw new DomainError("VALIDATION_FAILED", "The sync range is not one Pulse can fetch.", { errors });

  const range = { since: new Date(since), until: new Date(until) };
  await enqueueSync(ctx, { id: row.id, provider, userId }, "manual", range);
  return { provider, since: range.since.toISOString(), until: range.until.toISOString() };
}
