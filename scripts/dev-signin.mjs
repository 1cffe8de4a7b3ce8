#!/usr/bin/env node
// `npm run -s dev:signin -- --key <file> [--url http://localhost:8787]`
//
// Signs in with a passkey saved by `npm run dev:signup -- --save <file>` (the real login ceremony,
// discoverable: no username sent) and prints the same `export PULSE_…` lines as dev:signup, for a
// fresh 15-minute token: `eval "$(npm run -s dev:signin -- --key ada.passkey.json)"`. Exits 1 with
// the server's answer when the sign-in is refused (e.g. the account was deleted). Development only.
import { loadCredential, parseOptions, signIn } from "./dev-passkey.mjs";

const USAGE = "npm run -s dev:signin -- --key <file> [--url <base>]";

async function main() {
  const options = parseOptions(process.argv.slice(2), ["key", "url"], USAGE);
  if (!options.key) throw new Error(`usage: ${USAGE}`);
  const authenticator = await loadCredential(options.key);
  const url = options.url ?? process.env.PULSE_URL ?? authenticator.origin;
  const signedIn = await signIn(url, authenticator, options.key);
  console.error(`signed in @${signedIn.user.username} (${signedIn.user.id})`);
  console.log(`export PULSE_URL=${JSON.stringify(url)}`);
  console.log(`export PULSE_TOKEN=${JSON.stringify(signedIn.accessToken)}`);
  console.log(`export PULSE_REFRESH_TOKEN=${JSON.stringify(signedIn.refreshToken)}`);
  console.log(`export PULSE_USER_ID=${JSON.stringify(signedIn.user.id)}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
