#!/usr/bin/env node
// `npm run -s dev:delete-account -- --key <file> [--url http://localhost:8787]`
//
// Deletes the account of a passkey saved by `npm run dev:signup -- --save <file>`, the way the
// web app's "Delete my account" (Account page) does: a fresh sign-in with that passkey (deletion wants the person,
// not just any token they once held), then POST /v1/me/deletion/options → a new assertion →
// POST /v1/me/deletion/verify (202; the deletion job runs on the queue). Prints the answer.
// The key file is kept (it is what proves afterwards that signing in fails). Development only.
import { loadCredential, parseOptions, post, saveCredential, signIn } from "./dev-passkey.mjs";

const USAGE = "npm run -s dev:delete-account -- --key <file> [--url <base>]";

async function main() {
  const options = parseOptions(process.argv.slice(2), ["key", "url"], USAGE);
  if (!options.key) throw new Error(`usage: ${USAGE}`);
  const authenticator = await loadCredential(options.key);
  const url = options.url ?? process.env.PULSE_URL ?? authenticator.origin;
  const { accessToken, user } = await signIn(url, authenticator, options.key);
  const { flowId, options: request } = await post(url, "/v1/me/deletion/options", undefined, accessToken);
  const response = await authenticator.authenticate(request);
  await saveCredential(options.key, authenticator);
  const accepted = await post(url, "/v1/me/deletion/verify", { flowId, response }, accessToken);
  console.error(`deleting @${user.username} (${user.id}): every session ended; the deletion job is queued`);
  console.log(JSON.stringify(accepted));
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
