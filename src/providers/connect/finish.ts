/**
 * `GET /oauth/:provider/callback`: finishes a flow. The state is taken (single use) before
 * anything else, so a replayed callback finds nothing; the browser must present the binding
 * secret it received when the person confirmed (./confirm.ts). Only then is the code exchanged
 * (with the flow's PKCE verifier), the provider account read, and the connection stored with
 * its security event (../connections.ts). Every refusal leaves nothing stored.
 */
import { sha256Hex, timingSafeEqualText } from "../../auth/secrets";
import { DomainError } from "../../errors/domain-error";
import { errorName, log } from "../../observability/log";
import { findUser } from "../../users/users";
import { driverContextFor } from "../config";
import { type ConnectionSummary, findConnection, saveConnection } from "../connections";
import type { DriverContext, ProviderDriver, ProviderTokens } from "../driver";
import { driverFor } from "../drivers";
import { type ProviderSyncMessage, providerSyncMessage } from "../messages";
import { type ProviderName, providerFacts } from "../registry";
import type { ConnectContext } from "./context";
import { type Flow, flowStore, readFlow } from "./flow-state";
import { refuseFlow } from "./refusal";

const DAY_MS = 86_400_000;
/** How far the first backfill reaches when the provider documents no limit. */
export const DEFAULT_BACKFILL_DAYS = 30;

export interface FinishedConnection {
  provider: ProviderName;
  connection: ConnectionSummary;
  returnTo: string | null;
}

/** The first backfill's range: `[now - backfill window, now)`. */
export function backfillRange(provider: ProviderName, now: Date): { since: Date; until: Date } {
  const days = providerFacts(provider).sync.backfillDays ?? DEFAULT_BACKFILL_DAYS;
  return { since: new Date(now.getTime() - days * DAY_MS), until: now };
}

export async function finishConnection(
  ctx: ConnectContext,
  provider: ProviderName,
  query: URLSearchParams,
  bindingSecret: string | null,
): Promise<FinishedConnection> {
  const driver = driverFor(provider);
  const error = query.get("error");
  const callback = error === null ? readCallback(driver, query) : null;
  const state = callback?.state ?? query.get("state");
  if (state === null) refuseFlow("malformed_callback", "The provider sent the browser back without the connection's state.");
  // Taken first, whatever follows: a state is good for one callback, successful or not.
  const flow = readFlow(await flowStore(ctx.env, state).take(state));
  if (flow === null) refuseFlow("unknown_flow", "This connection has expired or was already completed.");
  if (flow.provider !== provider) refuseFlow("wrong_provider", "This connection was started for another provider.");
  await checkBinding(flow, bindingSecret);
  if (error !== null) {
    // The app hears of a declined consent as it hears of a Cancel: `returnTo?error=access_denied`.
    if (error === "access_denied") refuseFlow("declined", "The person declined at the provider.", flow.returnTo);
    refuseFlow("malformed_callback", `The provider ended the connection (${error}).`);
  }
  if (callback === null) refuseFlow("malformed_callback", "The provider sent the browser back without an authorization code.");

  const context: DriverContext = { ...driverContextFor(ctx.config, provider), redirectUri: flow.redirectUri };
  const { tokens, profile } = await atProvider(provider, async () => {
    const tokens = await driver.exchangeCode(context, callback.code, flow.codeVerifier);
    // A user id the token answer names is the provider's word (Withings has no profile endpoint).
    if (tokens.providerUserId !== undefined)
      return { tokens, profile: { providerUserId: tokens.providerUserId, timeZone: null } };
    return { tokens, profile: await driver.profile(context, tokens.accessToken) };
  });
  const user = await findUser(ctx, flow.userId);
  if (!user) refuseFlow("unknown_flow", "The account that started this connection no longer exists.");
  // Two flows started before either finished: the second must not silently swap the working
  // connection to another provider account (the start refuses an active connection for the same reason).
  const existing = await findConnection(ctx.db, user.id, provider);
  if (existing?.status === "active" && existing.providerUserId !== profile.providerUserId) {
    throw new DomainError(
      "CONFLICT",
      `${providerFacts(provider).displayName} is already connected to this Pulse account with another ${providerFacts(provider).displayName} account; disconnect it first.`,
    );
  }
  // The browser carries no Pulse credential here: the flow says whose connection this is.
  const connection = await saveConnection(
    ctx,
    { userId: user.id, provider, providerUserId: profile.providerUserId, timeZone: profile.timeZone, tokens },
    { ...ctx.audit, actor: user.id, role: user.role },
  );
  await ensureSubscription(driver, context, tokens);
  try {
    await enqueueSync(ctx, { ...connection, userId: user.id }, "backfill", backfillRange(provider, ctx.now));
  } catch (error) {
    // The connection stands; the person (or the next webhook) can still start a sync.
    log("error", "initial backfill not enqueued", { provider, error: errorName(error) });
  }
  return { provider, connection, returnTo: flow.returnTo };
}

function readCallback(driver: ProviderDriver, query: URLSearchParams): { code: string; state: string } | null {
  if (driver.readCallback) return driver.readCallback(query);
  const code = query.get("code");
  const state = query.get("state");
  return code && state ? { code, state } : null;
}

async function checkBinding(flow: Flow, bindingSecret: string | null): Promise<void> {
  const presented = bindingSecret === null ? null : await sha256Hex(bindingSecret);
  if (flow.bindingHash === null || presented === null || !timingSafeEqualText(presented, flow.bindingHash)) {
    refuseFlow("other_browser", "This connection was confirmed in another browser, or not confirmed at all.");
  }
}

/** A provider's failure as PROVIDER_FAILED, its cause kept for the log but never shown. */
async function atProvider<T>(provider: ProviderName, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    log("warn", "provider failed during connection", { provider, error: errorName(error) });
    throw new DomainError("PROVIDER_FAILED", `${providerFacts(provider).displayName} did not complete the connection.`, {
      cause: error,
    });
  }
}

/** Per-user subscriptions are best effort: the connection stands, and syncs still poll. */
async function ensureSubscription(driver: ProviderDriver, context: DriverContext, tokens: ProviderTokens): Promise<void> {
  if (!driver.subscriptions) return;
  try {
    await driver.subscriptions.ensure(context, tokens.accessToken);
  } catch (error) {
    log("warn", "provider subscription failed", { provider: driver.name, error: errorName(error) });
  }
}

/** One `provider.sync` message on SYNC (./../messages.ts); ids and instants only. */
export async function enqueueSync(
  ctx: Pick<ConnectContext, "env">,
  connection: Pick<ConnectionSummary, "id" | "provider"> & { userId: string },
  reason: ProviderSyncMessage["reason"],
  range: { since: Date; until: Date },
): Promise<ProviderSyncMessage> {
  const message = providerSyncMessage.parse({
    type: "provider.sync",
    connectionId: connection.id,
    userId: connection.userId,
    provider: connection.provider,
    since: range.since.toISOString(),
    until: range.until.toISOString(),
    reason,
  });
  try {
    await ctx.env.SYNC.send(message, { contentType: "json" });
  } catch (error) {
    // Nothing was queued and nothing else was written: the caller may simply ask again.
    throw new DomainError("SERVICE_UNAVAILABLE", "The sync could not be queued; try again shortly.", {
      retryAfterSeconds: 5,
      cause: error,
    });
  }
  return message;
}
