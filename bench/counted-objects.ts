/**
 * The bench Worker's Durable Object classes (bench/worker.ts exports them under the production
 * names): each is the production class, or the audit bench's store, constructed with its `env`
 * wrapped by ./counters.ts, so what an object does on D1, R2, the queues and other objects is
 * counted under `do:<Class>`.
 */
import { AuthActivity, OAuthState, RateLimiter, WebhookLedger } from "../src/index";
import { BenchHealthStore } from "./audit-store";
import { countedEnv } from "./counters";

export class CountedHealthStore extends BenchHealthStore {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, countedEnv(env, "do:HealthStore"));
  }

  /** Bytes of this store's SQLite database (pages in use), as the per-object limit counts them. */
  async benchDatabaseSize(): Promise<number> {
    return this.ctx.storage.sql.databaseSize;
  }
}

export class CountedRateLimiter extends RateLimiter {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, countedEnv(env, "do:RateLimiter"));
  }
}

export class CountedOAuthState extends OAuthState {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, countedEnv(env, "do:OAuthState"));
  }
}

export class CountedAuthActivity extends AuthActivity {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, countedEnv(env, "do:AuthActivity"));
  }
}

export class CountedWebhookLedger extends WebhookLedger {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, countedEnv(env, "do:WebhookLedger"));
  }
}
