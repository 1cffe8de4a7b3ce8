import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";

/** The parts of wrangler's resolved configuration this test reads (its published types are loose). */
interface Config {
  d1_databases: { binding: string }[];
  r2_buckets: { binding: string }[];
  queues: { producers?: { binding: string }[]; consumers?: { queue: string; dead_letter_queue?: string }[] };
  durable_objects: { bindings: { name: string }[] };
  migrations: { new_sqlite_classes?: string[] }[];
  triggers: { crons: string[] };
  observability?: { enabled?: boolean };
  vars: Record<string, unknown>;
}

describe("wrangler.toml", () => {
  const config = unstable_readConfig({ config: "wrangler.toml" }, { hideWarnings: true }) as Config;

  it("declares every binding of DESIGN §1", () => {
    expect(config.d1_databases.map((d) => d.binding)).toEqual(["DB"]);
    expect(config.r2_buckets.map((b) => b.binding)).toEqual(["LAKE"]);
    expect(config.queues.producers?.map((q) => q.binding).sort()).toEqual(["INGEST", "SYNC", "WEBHOOKS"]);
    const consumers = config.queues.consumers ?? [];
    expect(consumers.map((q) => q.queue).sort()).toEqual([
      "pulse-ingest",
      "pulse-ingest-dlq",
      "pulse-sync",
      "pulse-sync-dlq",
      "pulse-webhooks",
      "pulse-webhooks-dlq",
    ]);
    expect(consumers.find((q) => q.queue === "pulse-ingest")?.dead_letter_queue).toBe("pulse-ingest-dlq");
    expect(consumers.find((q) => q.queue === "pulse-sync")?.dead_letter_queue).toBe("pulse-sync-dlq");
    expect(consumers.find((q) => q.queue === "pulse-webhooks")?.dead_letter_queue).toBe("pulse-webhooks-dlq");
    expect(config.durable_objects.bindings.map((b) => b.name).sort()).toEqual([
      "AUTH_ACTIVITY",
      "HEALTH_STORE",
      "OAUTH_STATE",
      "RATE_LIMITER",
      "WEBHOOK_LEDGER",
    ]);
    expect(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []).sort()).toEqual([
      "AuthActivity",
      "HealthStore",
      "OAuthState",
      "RateLimiter",
      "WebhookLedger",
    ]);
    expect(config.triggers.crons).toEqual(["*/5 * * * *", "0 * * * *", "30 3 * * *"]);
    expect(config.observability?.enabled).toBe(true);
  });

  it("repeats every binding in [env.production], which wrangler does not inherit, with production vars", () => {
    const production = unstable_readConfig({ config: "wrangler.toml", env: "production" }, { hideWarnings: true }) as Config;
    const withoutId = (list: { binding: string }[]) =>
      list.map(({ database_id: _id, ...rest }: { binding: string; database_id?: string }) => rest);
    expect(withoutId(production.d1_databases)).toEqual(withoutId(config.d1_databases));
    expect(production.r2_buckets).toEqual(config.r2_buckets);
    expect(production.queues).toEqual(config.queues);
    expect(production.durable_objects).toEqual(config.durable_objects);
    expect(production.migrations).toEqual(config.migrations);
    expect(production.triggers).toEqual(config.triggers);
    expect(production.vars.ENVIRONMENT).toBe("production");
    expect(Object.keys(production.vars).sort()).toEqual(Object.keys(config.vars).sort());
    expect(JSON.stringify(production.vars)).not.toMatch(/localhost|127\.0\.0\.1|http:/);
    expect(config.vars.ENVIRONMENT).toBe("development");
  });
});
