// Browser tests: plain Node (not workerd). Each file starts the real dev server (`scripts/dev.mjs`)
// and drives the system Chromium through playwright-core, the way a person would use Pulse.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/browser/**/*.test.ts"],
    // Each file runs its own wrangler dev + Chromium; two cores cannot host several at once.
    fileParallelism: false,
    testTimeout: 60_000,
    // Starting the dev server applies migrations and bundles the Worker first.
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
});
