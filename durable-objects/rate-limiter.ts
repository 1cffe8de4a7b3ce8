import { DurableObject } from "cloudflare:workers";

/** Exact per-key quotas (DESIGN §1). */
export class RateLimiter extends DurableObject<Env> {}
