/**
 * What test/support/sandbox-provider.global.ts provides to the workerd tests: where the real
 * sandbox provider (tools/sandbox-provider) listens and the credentials the Worker's
 * PROVIDER_CREDENTIALS holds for it (vitest.config.ts).
 */
export interface SandboxProviderFixture {
  origin: string;
  clientId: string;
  clientSecret: string;
  webhookSigningSecret: string;
  /** The redirect URI the sandbox accepts: `<JWT_ISSUER origin>/oauth/sandbox/callback`. */
  redirectUri: string;
}

/** How vitest.config.ts hands the port and credentials to the global setup (same process). */
export const SANDBOX_TEST_ENV = "PULSE_TEST_SANDBOX_PROVIDER";

declare module "vitest" {
  export interface ProvidedContext {
    sandboxProvider: SandboxProviderFixture;
  }
}
