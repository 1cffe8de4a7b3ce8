#!/usr/bin/env node
// `npm run -s dev:signup -- [--url http://localhost:8787] [--username <name>]`
//
// Signs a new user up against a running Pulse (normally `npm run dev`) with a *software* passkey:
// the real WebAuthn ceremony (register/options → a `none`-attestation ES256 credential →
// register/verify), no browser needed. Prints shell lines that export PULSE_TOKEN (a 15-minute
// access token) and PULSE_URL, so that
//
//   eval "$(npm run -s dev:signup)"
//   npm run upload -- ../shared/data/health-connect/samples/*.avro
//
// loads the sample exports for that user. For development only: the passkey's private key lives in
// this process and is forgotten when it exits (use /portal for an account you sign in to again).
import { randomUUID } from "node:crypto";
import { SoftwareAuthenticator } from "../test/worker/helpers/authenticator.ts";

function parse(argv) {
  const options = { url: process.env.PULSE_URL ?? "http://localhost:8787", username: `dev-${randomUUID().slice(0, 8)}` };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if ((argv[i] === "--url" || argv[i] === "--username") && value) options[argv[i++].slice(2)] = value;
    else throw new Error(`usage: npm run -s dev:signup -- [--url <base>] [--username <name>] (unexpected ${argv[i]})`);
  }
  return options;
}

async function post(url, path, body) {
  const res = await fetch(new URL(path, url), {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: new URL(url).origin },
    body: JSON.stringify(body),
  });
  const payload = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${payload.detail ?? JSON.stringify(payload)}`);
  return payload;
}

async function main() {
  const { url, username } = parse(process.argv.slice(2));
  const origin = new URL(url).origin;
  const authenticator = await SoftwareAuthenticator.create({ origin, rpId: new URL(url).hostname });
  const { flowId, options } = await post(url, "/v1/auth/register/options", { username, displayName: username });
  const response = await authenticator.register(options);
  const signedUp = await post(url, "/v1/auth/register/verify", { flowId, response });
  console.error(
    `signed up @${signedUp.user.username} (${signedUp.user.id}); recovery codes: ${signedUp.recoveryCodes.join(" ")}`,
  );
  console.log(`export PULSE_URL=${JSON.stringify(url)}`);
  console.log(`export PULSE_TOKEN=${JSON.stringify(signedUp.accessToken)}`);
  console.log(`export PULSE_REFRESH_TOKEN=${JSON.stringify(signedUp.refreshToken)}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
