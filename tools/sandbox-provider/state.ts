/**
 * The sandbox's in-memory state: accounts, pending consents, authorization codes, token families
 * and the failure modes set through the control API. Nothing is persisted: restarting the sandbox
 * signs every connection out (Pulse then sees `invalid_grant` and asks to reconnect), which is
 * also what a real provider's revocation looks like.
 */
export interface SandboxOptions {
  clientId: string;
  clientSecret: string;
  /** Signs webhooks: `sandbox-signature: t=…,v1=<hex HMAC-SHA256(secret, t + "." + body)>`. */
  webhookSigningSecret: string;
  /** Where pushes are POSTed (e.g. `http://127.0.0.1:8787/webhooks/sandbox`); absent: not sent. */
  webhookUrl?: string;
  /** `redirect_uri` must start with this (e.g. `http://localhost:8787/oauth/sandbox/callback`). */
  redirectUriPrefix: string;
  /** Access-token lifetime in seconds (default 3600). */
  accessTokenSeconds?: number;
  /** Records per data page (default 2,000). */
  pageSize?: number;
  /** The clock, for tests; default `Date.now`. */
  now?: () => number;
  /** The app name shown on the consent page (default "Pulse"). */
  appName?: string;
}

export interface Account {
  userId: string;
  name: string;
  timeZone: string;
  /** Data exists only up to here; a push moves it to now and tells Pulse by webhook. */
  availableUntil: number;
  failures: Failures;
}

export interface Failures {
  /** Answer 429 once `remaining` data requests have been served, for `retryAfter` seconds. */
  rateLimit: { remaining: number; retryAfter: number; blockedUntil: number | null } | null;
  /** Answer the next `count` data requests with `status`. */
  failNext: { status: number; count: number } | null;
}

/** An authorize request shown on the consent page, waiting for Approve or Deny. */
export interface PendingConsent {
  redirectUri: string;
  state: string;
  scopes: string[];
  codeChallenge: string;
  expiresAt: number;
}

export interface AuthorizationCode {
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string;
  expiresAt: number;
  /** Set when redeemed: a second redemption revokes what the first one issued (RFC 6749 §4.1.2). */
  familyId: string | null;
}

/** Every token descending from one authorization: revoked together on refresh-token reuse. */
export interface TokenFamily {
  id: string;
  userId: string;
  scopes: string[];
  revoked: boolean;
  /** The one refresh token that may be used next; earlier ones are rotated out. */
  currentRefreshToken: string;
}

export interface AccessToken {
  familyId: string;
  expiresAt: number;
  revoked: boolean;
}

export interface SandboxState {
  options: Required<Omit<SandboxOptions, "webhookUrl">> & { webhookUrl: string | null };
  accounts: Map<string, Account>;
  consents: Map<string, PendingConsent>;
  codes: Map<string, AuthorizationCode>;
  families: Map<string, TokenFamily>;
  /** Refresh token → family; rotated-out tokens stay so their reuse can be detected. */
  refreshTokens: Map<string, string>;
  accessTokens: Map<string, AccessToken>;
  /** Failure modes for every account (a demo); per-account modes are on the account. */
  failures: Failures;
}

export function createState(options: SandboxOptions): SandboxState {
  return {
    options: {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      webhookSigningSecret: options.webhookSigningSecret,
      webhookUrl: options.webhookUrl ?? null,
      redirectUriPrefix: options.redirectUriPrefix,
      accessTokenSeconds: options.accessTokenSeconds ?? 3600,
      pageSize: options.pageSize ?? 2000,
      now: options.now ?? Date.now,
      appName: options.appName ?? "Pulse",
    },
    accounts: new Map(),
    consents: new Map(),
    codes: new Map(),
    families: new Map(),
    refreshTokens: new Map(),
    accessTokens: new Map(),
    failures: { rateLimit: null, failNext: null },
  };
}

/** Whom a Bearer token belongs to and what it may read, or null when it is unknown, expired or revoked. */
export function resolveAccessToken(state: SandboxState, token: string): { account: Account; scopes: string[] } | null {
  const record = state.accessTokens.get(token);
  if (!record || record.revoked || record.expiresAt <= state.options.now()) return null;
  const family = state.families.get(record.familyId);
  if (!family || family.revoked) return null;
  const account = state.accounts.get(family.userId);
  return account ? { account, scopes: family.scopes } : null;
}

export function revokeFamily(state: SandboxState, familyId: string): void {
  const family = state.families.get(familyId);
  if (family) family.revoked = true;
}

/** Expires every access token of the account now (its refresh tokens still work). */
export function expireAccessTokens(state: SandboxState, userId: string): number {
  let count = 0;
  for (const token of state.accessTokens.values()) {
    const family = state.families.get(token.familyId);
    if (family?.userId === userId && token.expiresAt > state.options.now()) {
      token.expiresAt = state.options.now();
      count++;
    }
  }
  return count;
}

/** Revokes every grant of the account, as if the person disconnected Pulse at the provider. */
export function revokeAccount(state: SandboxState, userId: string): number {
  let count = 0;
  for (const family of state.families.values()) {
    if (family.userId === userId && !family.revoked) {
      family.revoked = true;
      count++;
    }
  }
  return count;
}
