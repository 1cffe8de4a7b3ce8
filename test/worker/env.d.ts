import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** ../shared/data/health-connect/samples, base64 by file name. */
      TEST_HEALTH_CONNECT_SAMPLES: Record<string, string>;
      /** ../shared/data/providers/webhook-test-vectors.json, parsed; tests validate its shape. */
      TEST_PROVIDER_VECTORS: unknown;
      /** ../shared/data/providers/dexcom-v3-egvs-example.json, as JSON text. */
      TEST_DEXCOM_EGVS_EXAMPLE: string;
    }
  }
}
