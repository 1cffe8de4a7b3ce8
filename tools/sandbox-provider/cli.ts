#!/usr/bin/env node
/**
 * `node tools/sandbox-provider/cli.ts` (Node ≥ 22.18 strips the types): the sandbox provider as a
 * process. Settings come from the environment, so no secret appears on a command line:
 *   SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_WEBHOOK_SIGNING_SECRET (required)
 *   SANDBOX_REDIRECT_URI_PREFIX (required, e.g. http://localhost:8787/oauth/sandbox/callback)
 *   SANDBOX_WEBHOOK_URL (optional: where pushes are POSTed)
 *   SANDBOX_HOST (default 127.0.0.1), SANDBOX_PROVIDER_PORT (default 8789)
 *   SANDBOX_PUSH_EVERY_SECONDS (optional: push new data for every account on a timer, for demos)
 */
import { serveSandboxProvider } from "./serve.ts";

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`sandbox provider: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number(process.env.SANDBOX_PROVIDER_PORT ?? "8789");
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error("sandbox provider: SANDBOX_PROVIDER_PORT must be a TCP port");
  process.exit(2);
}

const running = await serveSandboxProvider({
  host: process.env.SANDBOX_HOST ?? "127.0.0.1",
  port,
  clientId: required("SANDBOX_CLIENT_ID"),
  clientSecret: required("SANDBOX_CLIENT_SECRET"),
  webhookSigningSecret: required("SANDBOX_WEBHOOK_SIGNING_SECRET"),
  redirectUriPrefix: required("SANDBOX_REDIRECT_URI_PREFIX"),
  ...(process.env.SANDBOX_WEBHOOK_URL ? { webhookUrl: process.env.SANDBOX_WEBHOOK_URL } : {}),
});
console.log(`sandbox provider listening on ${running.origin}`);

const every = Number(process.env.SANDBOX_PUSH_EVERY_SECONDS ?? "0");
if (Number.isFinite(every) && every > 0) {
  // The demo's "wearable syncs": every account gets its newest data and Pulse a signed webhook.
  setInterval(async () => {
    for (const userId of running.provider.state.accounts.keys()) {
      const response = await running.provider.fetch(
        new Request(`${running.origin}/_sandbox/users/${encodeURIComponent(userId)}/push`, { method: "POST", body: "{}" }),
      );
      if (response.ok) {
        const result = (await response.json()) as { receiver: unknown };
        console.log(`sandbox provider: pushed new data for ${userId}; receiver ${JSON.stringify(result.receiver)}`);
      } else await response.body?.cancel();
    }
  }, every * 1000).unref();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    running.close().then(() => process.exit(0));
  });
}
