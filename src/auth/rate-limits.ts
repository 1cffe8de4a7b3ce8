/**
 * Quotas on the auth routes. Per IP they are sized for many people behind one NAT (a school, a
 * hospital, a carrier-grade NAT): tens of ceremonies a minute.
 *
 * Per account, only FAILURES are counted, never requests. A quota that any unauthenticated request
 * spends (options, a malformed verify) is a lockout switch for strangers: ten `login/options` calls
 * naming a victim used to turn the victim's own correctly signed sign-in into a 429. Now:
 * - a correctly signed assertion or a valid recovery code is always checked and always accepted,
 *   however many failures the account has seen (a passkey cannot be guessed; see docs/identity.md
 *   for why guessing a recovery code is hopeless too);
 * - failures (a known credential with a bad assertion, a wrong recovery code for a username) are
 *   counted per account in two windows, and once a window is full further failures answer 429
 *   with `Retry-After` instead of 401: the guesser is told to back off, the owner is not affected;
 * - wrong recovery codes are also counted per (client address, username), after the code is
 *   checked, so nobody sharing the owner's address can block the owner's valid code.
 */
import type { RateLimitDecision } from "../../durable-objects/rate-limiter";
import type { DomainError } from "../errors/domain-error";
import { HttpError } from "../http/errors";
import { errorName, log } from "../observability/log";
import { enforceQuota, ipRateLimitKey, rateLimit } from "../rate-limit/middleware";

export const AUTH_IP_LIMIT_PER_MINUTE = 60;

/** Failure windows per account: a short burst, then a longer back-off. */
export const ACCOUNT_FAILURE_WINDOWS = [
  { limit: 10, windowSeconds: 60 },
  { limit: 50, windowSeconds: 60 * 60 },
] as const;

/** Recovery attempts one client (IP, or IPv6 /64) may make for one username. */
export const RECOVERY_ATTEMPTS_PER_CLIENT = { limit: 10, windowSeconds: 60 * 60 } as const;

/** Replacing recovery codes: a security event, rarely needed, so a few an hour per user. */
export const RECOVERY_CODE_REGENERATIONS = { limit: 3, windowSeconds: 60 * 60 } as const;

/** Per-IP quota for unauthenticated auth routes (options, verify, refresh, recover). */
export const authIpLimit = () =>
  rateLimit({
    name: "auth-ip",
    windowSeconds: 60,
    limit: () => AUTH_IP_LIMIT_PER_MINUTE,
    key: (c) => ipRateLimitKey(c),
    onLimiterError: "closed",
  });

/**
 * Counts one failure against an account and answers the error the caller should get: the usual
 * failure, or a 429 once a failure window is full. A limiter outage does not turn a failure into a
 * success or a 503; the failure is still answered and audited.
 */
export async function accountFailure(env: Env, account: string, failure: DomainError): Promise<DomainError> {
  const stub = env.RATE_LIMITER.getByName(`auth-fail:${account}`);
  let denied: RateLimitDecision | undefined;
  for (const { limit, windowSeconds } of ACCOUNT_FAILURE_WINDOWS) {
    try {
      const decision = await stub.consume(limit, windowSeconds);
      if (!decision.allowed && (denied === undefined || decision.retryAfterSeconds > denied.retryAfterSeconds)) denied = decision;
    } catch (error) {
      log("error", "rate limiter unavailable", { limiter: "auth-fail", error: errorName(error) });
    }
  }
  if (denied === undefined) return failure;
  return new HttpError("RATE_LIMITED", `Too many failed attempts; retry in ${denied.retryAfterSeconds} s.`, {
    headers: {
      "RateLimit-Limit": String(denied.limit),
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": String(denied.resetSeconds),
      "Retry-After": String(denied.retryAfterSeconds),
    },
  });
}

/** Counts one wrong recovery code of this client for this username (429 once the window is full). */
export function enforceRecoveryAttempt(env: Env, client: string, username: string): Promise<RateLimitDecision> {
  return enforceQuota(env, { name: "recover-client", key: `${client}|${username}`, ...RECOVERY_ATTEMPTS_PER_CLIENT });
}

/** Spends one of the user's recovery-code regenerations (429 when spent). */
export function enforceRecoveryCodeRegeneration(env: Env, userId: string): Promise<RateLimitDecision> {
  return enforceQuota(env, { name: "recovery-codes", key: userId, ...RECOVERY_CODE_REGENERATIONS });
}
