/**
 * The confirmation step between `POST /v1/connections/:provider` and the provider: the page names
 * the Pulse account and the provider, and confirming binds the flow to this browser. Only the
 * SHA-256 of the binding secret is stored; the secret itself goes into an HttpOnly cookie and the
 * callback must present it (RFC 9700 §4.7.1: bind the flow to the user agent that started it).
 * Someone who sends another person a flow link cannot finish it in their own browser, and
 * someone who confirms a flow and forwards the provider's URL cannot have it finished elsewhere.
 */
import { randomSecret, sha256Hex } from "../../auth/secrets";
import type { Db } from "../../db/client";
import { findUser } from "../../users/users";
import { type ProviderName, providerFacts } from "../registry";
import { type Flow, flowStore, readFlow } from "./flow-state";
import { refuseFlow } from "./refusal";

/** What the confirmation page shows: no health data, no token. */
export interface FlowDescription {
  provider: ProviderName;
  providerDisplayName: string;
  accountDisplayName: string;
  accountUsername: string;
  expiresAt: string;
  /** Where confirming leads: the page's CSP must allow the form's redirect there. */
  providerOrigin: string;
}

export async function liveFlow(env: Env, provider: ProviderName, state: string): Promise<Flow> {
  const flow = readFlow(await flowStore(env, state).peek(state));
  if (flow === null) refuseFlow("unknown_flow", "This connection link has expired or was already used.");
  if (flow.provider !== provider) refuseFlow("wrong_provider", "This connection link belongs to another provider.");
  return flow;
}

export async function describeFlow(ctx: { env: Env; db: Db }, provider: ProviderName, state: string): Promise<FlowDescription> {
  const flow = await liveFlow(ctx.env, provider, state);
  const user = await findUser(ctx, flow.userId);
  if (!user) refuseFlow("unknown_flow", "The account that started this connection no longer exists.");
  return {
    provider,
    providerDisplayName: providerFacts(provider).displayName,
    accountDisplayName: user.displayName,
    accountUsername: user.username,
    expiresAt: flow.expiresAt,
    providerOrigin: new URL(flow.providerAuthorizeUrl).origin,
  };
}

/** Binds the flow to this browser; returns the cookie's secret and where to send the browser. */
export async function confirmFlow(
  env: Env,
  provider: ProviderName,
  state: string,
): Promise<{ bindingSecret: string; providerAuthorizeUrl: string }> {
  const flow = await liveFlow(env, provider, state);
  const bindingSecret = randomSecret(32);
  const bound = await flowStore(env, state).bind(state, { bindingHash: await sha256Hex(bindingSecret) });
  if (!bound) refuseFlow("unknown_flow", "This connection link has expired or was already used.");
  return { bindingSecret, providerAuthorizeUrl: flow.providerAuthorizeUrl };
}

/** The person chose Cancel: the flow ends here; where to send them back, if anywhere. */
export async function cancelFlow(env: Env, provider: ProviderName, state: string): Promise<string | null> {
  await liveFlow(env, provider, state);
  const flow = readFlow(await flowStore(env, state).take(state));
  return flow?.returnTo ?? null;
}
