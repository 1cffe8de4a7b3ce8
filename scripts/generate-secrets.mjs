#!/usr/bin/env node
// `npm run secrets:generate`: fresh production secrets as one JSON object on stdout, the format of
// `wrangler secret bulk`. Same generators as the development keys (scripts/dev-vars.mjs): an ES256
// key from WebCrypto, 32 random bytes each for the AES-256-GCM token key, the audit pseudonym HMAC key
// and the enclave-bridge token. Nothing is written to disk or sent anywhere by this script.
//
// Only for a first deployment: replacing TOKEN_ENCRYPTION_KEYS or AUDIT_PSEUDONYM_KEY on a running
// deployment makes stored provider tokens unreadable and breaks pseudonym continuity; rotate the
// signing key with `npm run keys:rotate` instead (docs/identity.md).
import { generateDevSecrets } from "./dev-vars.mjs";

const secrets = await generateDevSecrets("prod");
console.log(JSON.stringify(secrets, null, 2));
console.error(
  [
    "",
    "Store them without leaving a copy on disk, e.g.:",
    "  npm run --silent secrets:generate > /dev/shm/pulse-secrets.json",
    "  npx wrangler secret bulk /dev/shm/pulse-secrets.json --env production",
    "  shred -u /dev/shm/pulse-secrets.json",
    "ENCLAVE_BRIDGE_TOKEN must also be given to the enclave-bridge proxy (docs/enclave-deployment.md).",
  ].join("\n"),
);
