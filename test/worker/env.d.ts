import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** ../shared/data/health-connect/samples, base64 by file name. */
      TEST_HEALTH_CONNECT_SAMPLES: Record<string, string>;
      /** ../shared/data/providers/webhook-test-vectors.json, parsed; tests validate its shape. */
      TEST_PROVIDER_VECTORS: unknown;
    }
  }
}
