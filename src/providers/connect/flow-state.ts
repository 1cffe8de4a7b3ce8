/**
 * One connection flow in the OAuthState Durable Object (durable-objects/oauth-state.ts), keyed by
 * its `state`: who started it, for which provider, the PKCE verifier, where to send the person
 * afterwards, the provider's authorize URL (revealed only once the person confirms) and, after
 * that confirmation, the SHA-256 of the browser-binding secret the cookie carries.
 */
import type { OAuthStatePayload } from "../../../durable-objects/oauth-state";
import { isProviderName, type ProviderName } from "../registry";

/** DESIGN §7: a flow lives 10 minutes. */
export const FLOW_TTL_SECONDS = 600;

export interface Flow {
  userId: string;
  provider: ProviderName;
  codeVerifier: string;
  redirectUri: string;
  returnTo: string | null;
  providerAuthorizeUrl: string;
  expiresAt: string;
  /** Hex SHA-256 of the binding secret (../../auth/secrets.ts); null until the person confirms. */
  bindingHash: string | null;
}

export function flowPayload(flow: Flow): OAuthStatePayload {
  return { ...flow };
}

/** The stored payload as a `Flow`, or null when it is not one this module wrote. */
export function readFlow(payload: OAuthStatePayload | null): Flow | null {
  if (payload === null) return null;
  const { userId, provider, codeVerifier, redirectUri, returnTo, providerAuthorizeUrl, expiresAt, bindingHash } = payload;
  if (!isProviderName(provider)) return null;
  if (typeof providerAuthorizeUrl !== "string" || typeof expiresAt !== "string") return null;
  if (returnTo !== null && typeof returnTo !== "string") return null;
  if (bindingHash !== undefined && bindingHash !== null && typeof bindingHash !== "string") return null;
  return {
    userId,
    provider,
    codeVerifier,
    redirectUri,
    returnTo,
    providerAuthorizeUrl,
    expiresAt,
    bindingHash: bindingHash ?? null,
  };
}

export function flowStore(env: Env, state: string) {
  return env.OAUTH_STATE.getByName(state);
}
