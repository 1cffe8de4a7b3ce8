import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { AI_SECRETS, deployProblems, REQUIRED_SECRETS, readProductionConfig } from "../../scripts/deploy.mjs";

/** `npm run deploy` refuses what a production Worker cannot run with (scripts/deploy.mjs). */
const configPath = resolve(import.meta.dirname, "../../wrangler.toml");
const real = await readProductionConfig(configPath);
/** The top-level `[vars]`, as `npm run dev` uses them. */
const developmentVars = (unstable_readConfig({ config: configPath }, { hideWarnings: true }) as { vars: Record<string, unknown> })
  .vars;

/** The real `[env.production]` with every placeholder replaced the way an operator would. */
function completed() {
  return {
    ...real,
    vars: {
      ...real.vars,
      CORS_ORIGINS: "https://app.pulse-health.example",
      RP_ID: "pulse-health.example",
      JWT_ISSUER: "https://api.pulse-health.example",
    },
    d1_databases: real.d1_databases.map((database: { binding: string }) => ({
      ...database,
      database_id: "3f1c2b9a-5d6e-4f70-8a91-b2c3d4e5f601",
    })),
  };
}

describe("the deploy check", () => {
  it("refuses the committed wrangler.toml, naming every placeholder and the D1 id", () => {
    const { problems, unchecked } = deployProblems(real, null);
    expect(problems).toEqual([
      "CORS_ORIGINS still holds the REPLACE_ME placeholder",
      "RP_ID still holds the REPLACE_ME placeholder",
      "JWT_ISSUER still holds the REPLACE_ME placeholder",
      'D1 database_id is "REPLACE_ME-d1-database-id"; set the id printed by `wrangler d1 create pulse`',
    ]);
    expect(unchecked.join()).toContain("JWT_SIGNING_KEYS, TOKEN_ENCRYPTION_KEYS, AUDIT_PSEUDONYM_KEY");
  });

  it("refuses the development values of the top level", () => {
    const development = { ...completed(), vars: { ...real.vars, ...developmentVars } };
    const { problems } = deployProblems(development, REQUIRED_SECRETS);
    expect(problems).toEqual([
      'ENVIRONMENT is "development"; it must be "production"',
      "CORS_ORIGINS must not be a local address in production (http://localhost:8787)",
      "CORS_ORIGINS must not be a local address in production (http://127.0.0.1:8787)",
      "JWT_ISSUER must not be a local address in production (http://localhost:8787)",
      "RP_ID must be a domain name in production, not localhost",
    ]);
    const devD1 = {
      ...completed(),
      d1_databases: [{ binding: "DB", database_name: "pulse", database_id: "00000000-0000-4000-8000-000000000000" }],
    };
    expect(deployProblems(devD1, REQUIRED_SECRETS).problems).toEqual([
      'D1 database_id is "00000000-0000-4000-8000-000000000000"; set the id printed by `wrangler d1 create pulse`',
    ]);
  });

  it("accepts a complete production configuration with its secrets set", () => {
    expect(deployProblems(completed(), [...REQUIRED_SECRETS, "UNRELATED"])).toEqual({ problems: [], unchecked: [] });
  });

  it("names each secret the deployed Worker lacks", () => {
    const { problems } = deployProblems(completed(), ["JWT_SIGNING_KEYS"]);
    expect(problems).toEqual([
      "secret TOKEN_ENCRYPTION_KEYS is not set: `wrangler secret put TOKEN_ENCRYPTION_KEYS --env production`",
      "secret AUDIT_PSEUDONYM_KEY is not set: `wrangler secret put AUDIT_PSEUDONYM_KEY --env production`",
    ]);
  });

  it("refuses a secret written into vars", () => {
    const leaked = { ...completed(), vars: { ...completed().vars, AUDIT_PSEUDONYM_KEY: "c2VjcmV0" } };
    expect(deployProblems(leaked, REQUIRED_SECRETS).problems).toEqual([
      "AUDIT_PSEUDONYM_KEY is a secret: remove it from [vars] and use `wrangler secret put AUDIT_PSEUDONYM_KEY --env production`",
    ]);
  });

  it("refuses bindings the production section forgot (environments do not inherit them)", () => {
    const bare = { ...completed(), r2_buckets: [], queues: { producers: [], consumers: [] }, durable_objects: { bindings: [] } };
    const { problems } = deployProblems(bare, REQUIRED_SECRETS);
    expect(problems).toContain("R2 binding LAKE is missing from [[env.production.r2_buckets]]");
    expect(problems).toContain("queue producer INGEST is missing from [[env.production.queues.producers]]");
    expect(problems).toContain(
      "queue consumer pulse-sync with dead_letter_queue pulse-sync-dlq is missing from [[env.production.queues.consumers]]",
    );
    expect(problems).toContain("dead-letter queue consumer pulse-ingest-dlq is missing from [[env.production.queues.consumers]]");
    expect(problems).toContain("Durable Object binding HEALTH_STORE is missing from [[env.production.durable_objects.bindings]]");
  });

  it("with confidential AI, asks for an https bridge, real PCRs, the default root and the bridge token", () => {
    const pcr = "ab".repeat(48);
    const ai = {
      ...completed(),
      vars: {
        ...completed().vars,
        ENCLAVE_BRIDGE_URL: "http://127.0.0.1:9000",
        ENCLAVE_PCR0: pcr,
        ENCLAVE_PCR1: "0".repeat(96),
        ENCLAVE_PCR2: "REPLACE_ME",
        ENCLAVE_ROOT_SHA256: "f".repeat(64),
      },
    };
    expect(deployProblems(ai, REQUIRED_SECRETS).problems).toEqual([
      "ENCLAVE_BRIDGE_URL must be the enclave proxy's public https URL, not http://127.0.0.1:9000",
      "ENCLAVE_PCR1 is all zeros: a debug-mode enclave",
      "ENCLAVE_PCR2 must be the enclave image's measurement (96 hex digits)",
      "ENCLAVE_ROOT_SHA256 must not be set in production (the AWS Nitro root G1 is the default)",
      "ENCLAVE_PCR2 still holds the REPLACE_ME placeholder",
      "secret ENCLAVE_BRIDGE_TOKEN is not set: `wrangler secret put ENCLAVE_BRIDGE_TOKEN --env production`",
    ]);
    const fixed = {
      ...ai,
      vars: {
        ...completed().vars,
        ENCLAVE_BRIDGE_URL: "https://enclave.pulse-health.example",
        ENCLAVE_PCR0: pcr,
        ENCLAVE_PCR1: pcr,
        ENCLAVE_PCR2: pcr,
      },
    };
    expect(deployProblems(fixed, [...REQUIRED_SECRETS, ...AI_SECRETS]).problems).toEqual([]);
  });

  it("`npm run deploy -- --dry-run` exits non-zero on the committed configuration and says why", () => {
    const result = spawnSync(process.execPath, [resolve(import.meta.dirname, "../../scripts/deploy.mjs"), "--dry-run"], {
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Refusing to deploy --env production");
    expect(result.stderr).toContain("CORS_ORIGINS still holds the REPLACE_ME placeholder");
    expect(result.stderr).toContain('D1 database_id is "REPLACE_ME-d1-database-id"');
    expect(result.stderr).toContain("not checked: secrets");
  }, 60_000);
});
