/**
 * The provider's published request budget, spent before each page (DESIGN §7 "rate limits"): a
 * provider's limit is per app (Withings 120/min, Strava 100/15 min, WHOOP 100/min) or per user, and
 * every connection's sync draws on the same app budget. Counting in the RateLimiter Durable Object
 * (one per provider and window, exact and serialized) lets Pulse wait before the provider answers
 * 429 — which some providers punish with longer bans — while a 429 that still arrives is honoured
 * through its `Retry-After` all the same (./sync.ts).
 *
 * One unit per page: a driver that makes several requests for one page spends more than it counts,
 * so each limit is taken at 90% of what the provider publishes.
 */
import { DomainError } from "../../errors/domain-error";
import type { ProviderFacts } from "../registry";

const HEADROOM = 0.9;

export async function spendProviderBudget(env: Env, facts: ProviderFacts, connectionId: string): Promise<void> {
  for (const limit of facts.sync.rateLimits) {
    const quota = Math.max(1, Math.floor(limit.requests * HEADROOM));
    const scope = limit.per === "app" ? "app" : `connection:${connectionId}`;
    const key = `provider-api:${facts.name}:${scope}:${limit.requests}/${limit.perSeconds}`;
    const decision = await env.RATE_LIMITER.getByName(key).consume(quota, limit.perSeconds);
    if (!decision.allowed) {
      throw new DomainError("RATE_LIMITED", `${facts.displayName}'s request budget is spent; the sync resumes when it renews.`, {
        retryAfterSeconds: decision.retryAfterSeconds,
      });
    }
  }
}
