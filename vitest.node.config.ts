// Tests of the Node-side tooling (scripts/): plain Node, no workerd, no browser.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { environment: "node", include: ["test/node/**/*.test.ts"] },
});
