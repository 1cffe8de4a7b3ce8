// Starts the real sandbox provider (tools/sandbox-provider) in the vitest process, for the workerd
// tests to connect to over HTTP like `npm run dev` does. vitest.config.ts chose its port and
// credentials (the Worker's SANDBOX_PROVIDER_ORIGIN and PROVIDER_CREDENTIALS bindings must name
// them before the Worker starts) and passes them here through the environment; the tests receive
// them via provide().
//
// No webhook URL: a test delivers the push's returned webhook to the Worker itself through SELF.

import type { TestProject } from "vitest/node";
import { serveSandboxProvider } from "../../tools/sandbox-provider/serve.ts";
import { SANDBOX_TEST_ENV, type SandboxProviderFixture } from "./sandbox-provider-fixture";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const settings = process.env[SANDBOX_TEST_ENV];
  if (!settings) throw new Error(`${SANDBOX_TEST_ENV} is not set: vitest.config.ts chooses the sandbox's port`);
  const fixture = JSON.parse(settings) as SandboxProviderFixture & { port: number };
  const running = await serveSandboxProvider({
    host: "127.0.0.1",
    port: fixture.port,
    clientId: fixture.clientId,
    clientSecret: fixture.clientSecret,
    webhookSigningSecret: fixture.webhookSigningSecret,
    redirectUriPrefix: fixture.redirectUri,
  });
  const { port: _port, ...provided } = fixture;
  project.provide("sandboxProvider", { ...provided, origin: running.origin });
  return () => running.close();
}
