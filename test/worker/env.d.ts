import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      /** ../shared/data/health-connect/samples, base64 by file name. */
      TEST_HEALTH_CONNECT_SAMPLES: Record<string, string>;
    }
  }
}
