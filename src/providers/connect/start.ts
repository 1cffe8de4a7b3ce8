/**
 * `POST /v1/connections/:provider`: starts a flow. The provider's authorize URL is kept in the
 * flow state and the caller gets Pulse's own confirmation page instead (./confirm.ts): a person
 * must see which Pulse account is about to be linked before the browser is bound to the flow
 * (account-linking CSRF, RFC 9700 §4.7).
 */
import { randomSecret } from "../../auth/secrets";
import { DomainError } from "../../errors/domain-error";
import { driverContextFor } from "../config";
import { findConnection } from "../connections";
import { driverFor } from "../drivers";
import { isProviderName, type ProviderName, UNAVAILABLE_PROVIDERS } from "../registry";
import type { ConnectContext } from "./context";
import { FLOW_TTL_SECONDS, flowPayload, flowStore } from "./flow-state";
import { checkReturnTo } from "./return-to";

export interface StartedConnection {
  authorizeUrl: string;
  expiresAt: string;
}

/** The provider named in a path, if Pulse can connect it here; NOT_FOUND (saying why) otherwise. */
export function connectableProvider(ctx: Pick<ConnectContext, "config">, name: string): ProviderName {
  // Own keys only: a path segment such as `__proto__` or `constructor` must not find Object.prototype.
  const unavailable = Object.hasOwn(UNAVAILABLE_PROVIDERS, name) ? UNAVAILABLE_PROVIDERS[name] : undefined;
  if (unavailable !== undefined) throw new DomainError("NOT_FOUND", unavailable);
  if (!isProviderName(name)) throw new DomainError("NOT_FOUND", "Pulse knows no provider by that name.");
  driverFor(name);
  driverContextFor(ctx.config, name);
  return name;
}

export async function startConnection(
  ctx: ConnectContext,
  userId: string,
  providerName: string,
  input: { returnTo?: string | undefined },
): Promise<StartedConnection> {
  const provider = connectableProvider(ctx, providerName);
  const returnTo = input.returnTo === undefined ? null : checkReturnTo(input.returnTo, ctx.config.returnToOrigins);
  const existing = await findConnection(ctx.db, userId, provider);
  if (existing?.status === "active") {
    throw new DomainError("CONFLICT", "This provider is already connected; disconnect it first to connect another account.");
  }
  const driver = driverFor(provider);
  const context = driverContextFor(ctx.config, provider);
  const state = randomSecret(32);
  const start = await driver.authorizationUrl(context, state);
  const expiresAt = new Date(ctx.now.getTime() + FLOW_TTL_SECONDS * 1000).toISOString();
  await flowStore(ctx.env, state).put(
    state,
    flowPayload({
      userId,
      provider,
      codeVerifier: start.codeVerifier,
      redirectUri: context.redirectUri,
      returnTo,
      providerAuthorizeUrl: start.url.toString(),
      expiresAt,
      bindingHash: null,
    }),
    FLOW_TTL_SECONDS,
  );
  const authorizeUrl = new URL(`/oauth/${provider}/connect`, ctx.config.publicOrigin);
  authorizeUrl.searchParams.set("flow", state);
  return { authorizeUrl: authorizeUrl.toString(), expiresAt };
}
