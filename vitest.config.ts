// Tests that run inside workerd with real local D1, R2, Queues and Durable Objects
// (@cloudflare/vitest-plugin). Browser tests have their own config: vitest.browser.config.ts.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { generateDevSecrets } from "./scripts/dev-vars.mjs";
import { freePort } from "./scripts/free-port.mjs";
import { SANDBOX_TEST_ENV } from "./test/support/sandbox-provider-fixture.ts";

const migrations = await readD1Migrations("./migrations");

// Contract test data (../shared/data, DESIGN §6) handed to the workerd tests as bindings: files on
// disk are not reachable from inside workerd. Base64, keyed by file name.
const samplesDir = resolve(import.meta.dirname, "../shared/data/health-connect/samples");
const samples = Object.fromEntries(
  readdirSync(samplesDir)
    .filter((name) => name.endsWith(".avro"))
    .map((name) => [name, readFileSync(resolve(samplesDir, name)).toString("base64")]),
);
// Provider webhook test vectors (DESIGN §7), parsed JSON as published in ../shared/data/providers.
const providerVectors = JSON.parse(
  readFileSync(resolve(import.meta.dirname, "../shared/data/providers/webhook-test-vectors.json"), "utf8"),
);
// The Dexcom v3 egvs example of ../shared/data/providers, for the provider mapping tests (JSON text).
const dexcomEgvsExample = readFileSync(
  resolve(import.meta.dirname, "../shared/data/providers/dexcom-v3-egvs-example.json"),
  "utf8",
);
const secrets = await generateDevSecrets();

// The sandbox provider (tools/sandbox-provider) the workerd tests connect through, started by
// test/support/sandbox-provider.global.ts: its port and credentials are chosen here because the
// Worker's bindings must name them. The environment carries them to the global setup (same
// process) and keeps them stable if this file is evaluated again.
process.env[SANDBOX_TEST_ENV] ??= JSON.stringify({
  port: await freePort(),
  clientId: "pulse-test-sandbox",
  clientSecret: crypto.randomUUID(),
  webhookSigningSecret: crypto.randomUUID(),
  redirectUri: "http://localhost:8787/oauth/sandbox/callback",
});
const sandbox = JSON.parse(process.env[SANDBOX_TEST_ENV]) as {
  port: number;
  clientId: string;
  clientSecret: string;
  webhookSigningSecret: string;
};

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ...secrets,
          ENVIRONMENT: "test",
          TEST_MIGRATIONS: migrations,
          TEST_HEALTH_CONNECT_SAMPLES: samples,
          TEST_PROVIDER_VECTORS: providerVectors,
          TEST_DEXCOM_EGVS_EXAMPLE: dexcomEgvsExample,
          ENABLE_SANDBOX_PROVIDER: "true",
          SANDBOX_PROVIDER_ORIGIN: `http://127.0.0.1:${sandbox.port}`,
          PROVIDER_CREDENTIALS: JSON.stringify({
            sandbox: {
              clientId: sandbox.clientId,
              clientSecret: sandbox.clientSecret,
              webhookSigningSecret: sandbox.webhookSigningSecret,
            },
          }),
          APP_REDIRECT_URIS: "https://app.pulse.example",
        },
      },
    }),
  ],
  test: {
    include: ["test/worker/**/*.test.ts"],
    setupFiles: ["./test/worker/setup.ts"],
    // The real enclave-bridge (enclave + proxy, in Node) for the /v1/ai/* tests, and the sandbox
    // provider (tools/sandbox-provider) for the provider connection tests.
    globalSetup: ["./test/support/enclave-bridge.global.ts", "./test/support/sandbox-provider.global.ts"],
    testTimeout: 20_000,
    // Request logs of passing tests are noise; a failing test still shows its output.
    silent: "passed-only",
  },
});
