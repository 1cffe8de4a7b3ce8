/**
 * Quotas on the auth routes, which anyone can call without a token. Per IP they are sized for many
 * people behind one NAT (a school, a hospital, a carrier-grade NAT): tens of ceremonies a minute.
 * Per account they are tight, because guessing or flooding one account is the attack they stop.
 */
import { ipRateLimitKey, rateLimit } from "../rate-limit/middleware";

export const AUTH_IP_LIMIT_PER_MINUTE = 60;
export const AUTH_ACCOUNT_LIMIT_PER_MINUTE = 10;

/** Per-IP quota for unauthenticated auth routes (options, verify, refresh, recover). */
export const authIpLimit = () =>
  rateLimit({
    name: "auth-ip",
    windowSeconds: 60,
    limit: () => AUTH_IP_LIMIT_PER_MINUTE,
    key: (c) => ipRateLimitKey(c),
    onLimiterError: "closed",
  });

/** Per-account quota key for `enforceQuota` once the account is known (username or user id). */
export const accountQuota = (account: string) => ({
  name: "auth-account",
  key: account.toLowerCase(),
  limit: AUTH_ACCOUNT_LIMIT_PER_MINUTE,
  windowSeconds: 60,
});
