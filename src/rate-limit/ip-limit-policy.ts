/**
 * Mirrors `[[ratelimits]] IP_RATE_LIMIT` in wrangler.toml: the binding does not report its limit,
 * so the 429 headers take it from here (test/node/wrangler-config.test.ts keeps the two in step).
 */
export const IP_LIMIT = { limit: 600, periodSeconds: 60 } as const;
