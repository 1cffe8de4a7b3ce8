#!/usr/bin/env node
// `npm run -s dev:signup -- [--url http://localhost:8787] [--username <name>] [--save <file>]`
//
// Signs a new user up against a running Pulse (normally `npm run dev`) with a *software* passkey:
// the real WebAuthn ceremony (register/options → a `none`-attestation ES256 credential →
// register/verify), no browser needed. Prints shell lines that export PULSE_TOKEN (a 15-minute
// access token), PULSE_REFRESH_TOKEN, PULSE_URL and PULSE_USER_ID, so that
//
//   eval "$(npm run -s dev:signup)"
//   npm run upload -- ../shared/data/health-connect/samples/*.avro
//
// loads the sample exports for that user. Without --save the passkey's private key lives in this
// process and is forgotten when it exits. With --save, the credential (id, private key as a JWK,
// user handle, RP ID, origin, signature counter) is written to <file> with mode 0600, so that
// `npm run dev:signin -- --key <file>` signs in again and `npm run dev:delete-account -- --key <file>`
// can confirm a deletion. DEVELOPMENT ONLY: the file is the passkey; never use it for a real account.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { parseOptions, post, SoftwareAuthenticator, saveCredential } from "./dev-passkey.mjs";

const USAGE = "npm run -s dev:signup -- [--url <base>] [--username <name>] [--save <file>]";

async function main() {
  const options = parseOptions(process.argv.slice(2), ["url", "username", "save"], USAGE);
  const url = options.url ?? process.env.PULSE_URL ?? "http://localhost:8787";
  const username = options.username ?? `dev-${randomUUID().slice(0, 8)}`;
  if (options.save && existsSync(options.save))
    throw new Error(`${options.save} exists; choose another file for the new passkey`);
  const origin = new URL(url).origin;
  const authenticator = await SoftwareAuthenticator.create({
    origin,
    rpId: new URL(url).hostname,
    extractable: Boolean(options.save),
  });
  const { flowId, options: creation } = await post(url, "/v1/auth/register/options", { username, displayName: username });
  const response = await authenticator.register(creation);
  const signedUp = await post(url, "/v1/auth/register/verify", { flowId, response });
  if (options.save) await saveCredential(options.save, authenticator);
  console.error(
    `signed up @${signedUp.user.username} (${signedUp.user.id}); recovery codes: ${signedUp.recoveryCodes.join(" ")}` +
      (options.save ? `\npasskey saved to ${options.save} (development only: this file signs in as the account)` : ""),
  );
  console.log(`export PULSE_URL=${JSON.stringify(url)}`);
  console.log(`export PULSE_TOKEN=${JSON.stringify(signedUp.accessToken)}`);
  console.log(`export PULSE_REFRESH_TOKEN=${JSON.stringify(signedUp.refreshToken)}`);
  console.log(`export PULSE_USER_ID=${JSON.stringify(signedUp.user.id)}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
