// Tests that run inside workerd with real local D1, R2, Queues and Durable Objects
// (@cloudflare/vitest-plugin). Browser tests have their own config: vitest.browser.config.ts.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { generateDevSecrets } from "./scripts/dev-vars.mjs";

const migrations = await readD1Migrations("./migrations");
const secrets = await generateDevSecrets();

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { ...secrets, ENVIRONMENT: "test", TEST_MIGRATIONS: migrations },
      },
    }),
  ],
  test: {
    include: ["test/worker/**/*.test.ts"],
    setupFiles: ["./test/worker/setup.ts"],
    testTimeout: 20_000,
    // Request logs of passing tests are noise; a failing test still shows its output.
    silent: "passed-only",
  },
});
