/**
 * The authorization-code flow every OAuth 2.0 driver shares, built on arctic (DESIGN §2, §7).
 *
 * arctic's `OAuth2Client` builds the authorize URL with PKCE S256 (RFC 7636) and performs the
 * token, refresh and RFC 7009 revocation requests when the provider authenticates clients with
 * HTTP Basic (RFC 6749 §2.3.1, the method every server must support). Several health providers
 * (Oura, WHOOP, Dexcom, Strava, Withings) instead want `client_secret` in the form body, and some
 * add fixed parameters; arctic's generic client cannot send either, so for those the form request
 * is built here and the answer read by arctic's own `OAuth2Tokens` and `OAuth2RequestError`, so
 * both paths behave the same for callers. arctic runs in workerd during a request: it needs no
 * code generation from strings (test/node/provider-oauth-eval-free.test.ts) and its requests are
 * exercised inside workerd (test/worker/provider-oauth.test.ts).
 */
import {
  ArcticFetchError,
  CodeChallengeMethod,
  generateCodeVerifier,
  OAuth2Client,
  OAuth2RequestError,
  OAuth2Tokens,
  UnexpectedErrorResponseBodyError,
  UnexpectedResponseError,
} from "arctic";
import { DomainError } from "../errors/domain-error";
import type { AuthorizationStart, DriverContext, ProviderDriver, ProviderTokens } from "./driver";
import { type OAuthFacts, type ProviderFacts, withOrigin } from "./registry";

/**
 * An OAuth failure at the provider. `oauthError` is the RFC 6749 §5.2 code when the provider sent
 * one (`invalid_grant`: the grant is dead, the user must reconnect); `transient` says whether
 * trying again later may succeed (network failure, 5xx, rate limit).
 */
export class ProviderOAuthError extends DomainError {
  readonly oauthError: string | null;
  readonly transient: boolean;

  constructor(oauthError: string | null, transient: boolean, cause: unknown) {
    super(
      transient ? "SERVICE_UNAVAILABLE" : "UNPROCESSABLE",
      transient ? "The provider could not be reached; try again later." : "The provider refused the authorization.",
      { cause },
    );
    this.name = "ProviderOAuthError";
    this.oauthError = oauthError;
    this.transient = transient;
  }
}

export interface OAuthClient {
  authorizationUrl(state: string): AuthorizationStart;
  /** Sends the verifier only to providers that take PKCE; the others never saw a challenge. */
  exchangeCode(code: string, codeVerifier: string): Promise<ProviderTokens>;
  refresh(refreshToken: string): Promise<ProviderTokens>;
  /** RFC 7009 revocation; providers with another scheme revoke in their driver. */
  revoke(token: string): Promise<void>;
}

export function createOAuthClient(registryFacts: OAuthFacts, context: DriverContext): OAuthClient {
  const facts = context.origin ? withOrigin(registryFacts, context.origin) : registryFacts;
  const basic = facts.clientAuthentication === "basic";
  const client = new OAuth2Client(context.clientId, basic ? context.clientSecret : null, context.redirectUri);
  const standard = basic && !facts.tokenParams;

  return {
    authorizationUrl(state) {
      const scopes = [...facts.scopes];
      // Always a verifier, so the OAuthState entry has one shape; only PKCE providers see it.
      const codeVerifier = generateCodeVerifier();
      const url = facts.pkce
        ? client.createAuthorizationURLWithPKCE(facts.authorizeUrl, state, CodeChallengeMethod.S256, codeVerifier, scopes)
        : client.createAuthorizationURL(facts.authorizeUrl, state, scopes);
      // arctic joins scopes with spaces (RFC 6749 §3.3); Strava and Withings want commas.
      if (scopes.length > 0) url.searchParams.set("scope", scopes.join(facts.scopeSeparator));
      for (const [name, value] of Object.entries(facts.authorizeParams ?? {})) url.searchParams.set(name, value);
      return { url, codeVerifier };
    },

    async exchangeCode(code, codeVerifier) {
      const verifier = facts.pkce ? codeVerifier : null;
      if (standard) return fromArctic(() => client.validateAuthorizationCode(facts.tokenUrl, code, verifier));
      const form: Record<string, string> = { grant_type: "authorization_code", code, redirect_uri: context.redirectUri };
      if (verifier !== null) form.code_verifier = verifier;
      return fromArctic(() => postTokenForm(facts, context, form));
    },

    async refresh(refreshToken) {
      if (standard) return fromArctic(() => client.refreshAccessToken(facts.tokenUrl, refreshToken, []));
      return fromArctic(() => postTokenForm(facts, context, { grant_type: "refresh_token", refresh_token: refreshToken }));
    },

    async revoke(token) {
      const url = facts.revocation.url;
      if (facts.revocation.style !== "rfc7009" || url === null) {
        throw new DomainError("INTERNAL", "This provider has no standard revocation endpoint.");
      }
      try {
        await client.revokeToken(url, token);
      } catch (error) {
        throw providerError(error);
      }
    },
  };
}

/** The OAuth half of a `ProviderDriver`, from the registry's facts; drivers spread it in. */
export type OAuthMethods = Pick<ProviderDriver, "authorizationUrl" | "exchangeCode" | "refresh" | "revoke">;

export function oauthMethods(provider: ProviderFacts): OAuthMethods {
  const facts = provider.oauth;
  if (!facts) throw new DomainError("INTERNAL", `${provider.displayName} is not connected through OAuth.`);
  return {
    authorizationUrl: (context, state) => createOAuthClient(facts, context).authorizationUrl(state),
    exchangeCode: (context, code, codeVerifier) => createOAuthClient(facts, context).exchangeCode(code, codeVerifier),
    refresh: (context, refreshToken) => createOAuthClient(facts, context).refresh(refreshToken),
    async revoke(context, tokens) {
      if (facts.revocation.style === "none") return;
      if (facts.revocation.style === "provider-api") {
        throw new DomainError("INTERNAL", `The ${provider.displayName} driver must implement revoke.`);
      }
      // RFC 7009 §2.1: revoking the refresh token also invalidates access tokens issued from it.
      await createOAuthClient(facts, context).revoke(tokens.refreshToken ?? tokens.accessToken);
    },
  };
}

async function fromArctic(request: () => Promise<OAuth2Tokens>): Promise<ProviderTokens> {
  let tokens: OAuth2Tokens;
  try {
    tokens = await request();
  } catch (error) {
    throw providerError(error);
  }
  return readTokens(tokens);
}

/** arctic's errors as one `ProviderOAuthError`: nothing of the provider's answer is echoed. */
function providerError(error: unknown): ProviderOAuthError {
  if (error instanceof ProviderOAuthError) return error;
  if (error instanceof OAuth2RequestError) return new ProviderOAuthError(error.code, false, error);
  if (error instanceof ArcticFetchError) return new ProviderOAuthError(null, true, error);
  if (error instanceof UnexpectedResponseError || error instanceof UnexpectedErrorResponseBodyError) {
    return new ProviderOAuthError(null, error.status >= 500 || error.status === 429, error);
  }
  return new ProviderOAuthError(null, false, error);
}

function readTokens(tokens: OAuth2Tokens): ProviderTokens {
  let accessToken: string;
  try {
    accessToken = tokens.accessToken();
  } catch (error) {
    throw new ProviderOAuthError(null, false, error);
  }
  const data = tokens.data as Record<string, unknown>;
  const userId = data.x_user_id;
  return {
    accessToken,
    refreshToken: tokens.hasRefreshToken() ? tokens.refreshToken() : null,
    accessTokenExpiresAt: typeof data.expires_in === "number" ? tokens.accessTokenExpiresAt() : null,
    scopes: tokens.hasScopes() ? tokens.scopes() : null,
    ...(typeof userId === "number" || (typeof userId === "string" && userId !== "") ? { providerUserId: String(userId) } : {}),
  };
}

/**
 * A token request with the client secret in the form body (`client_secret_post`) and the
 * provider's fixed parameters; the answer is read as RFC 6749 §5.1 / §5.2 describe.
 */
async function postTokenForm(facts: OAuthFacts, context: DriverContext, form: Record<string, string>): Promise<OAuth2Tokens> {
  const body = new URLSearchParams({ ...facts.tokenParams, ...form });
  if (facts.clientAuthentication === "body") {
    body.set("client_id", context.clientId);
    body.set("client_secret", context.clientSecret);
  }
  const headers = new Headers({ "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" });
  if (facts.clientAuthentication === "basic") {
    headers.set("Authorization", `Basic ${btoa(`${context.clientId}:${context.clientSecret}`)}`);
  }
  let response: Response;
  try {
    response = await fetch(facts.tokenUrl, { method: "POST", headers, body });
  } catch (error) {
    throw new ArcticFetchError(error);
  }
  const data = await response.json().catch(() => null);
  if (response.ok && isObject(data)) return new OAuth2Tokens(data);
  if ((response.status === 400 || response.status === 401) && isObject(data) && typeof data.error === "string") {
    throw new OAuth2RequestError(data.error, null, null, null);
  }
  throw new UnexpectedResponseError(response.status);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
