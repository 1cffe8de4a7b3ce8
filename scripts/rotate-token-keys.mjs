#!/usr/bin/env node
// `npm run keys:rotate-tokens [-- --local|--remote]`: re-encrypts every stored provider token
// under the newest key of TOKEN_ENCRYPTION_KEYS (DESIGN §5; src/providers/tokens.ts).
//
// Rotation: put a new key first (`v2:<base64>,v1:<base64>`), deploy it (the Worker seals with v2
// from then on and still opens v1), run this, and once it reports nothing left under v1, drop v1.
//
// --local (the default) rewrites the `npm run dev` database under PERSIST_DIR (default
// .wrangler/state) with the keys from .dev.vars. --remote rewrites the production D1 of
// `[env.production]` through wrangler's credentials; Worker secrets cannot be read back, so the
// key list comes from the TOKEN_ENCRYPTION_KEYS environment variable (from your secret manager),
// which also overrides .dev.vars locally. Keys and tokens are never printed.
//
// The re-encryption is `reencryptConnection` from src/providers/tokens.ts, bundled for Node with
// esbuild, the same code the Worker runs and test/worker/provider-tokens.test.ts checks. Each row
// is rewritten only if its ciphertexts are still the ones read, so a token the Worker refreshed
// meanwhile is never replaced by an older one; run the command again to pick such rows up.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleForNode } from "./bundle-for-node.mjs";
import { executeD1 } from "./d1-execute.mjs";
import { parseDevVars } from "./dev-vars.mjs";
import { sqlString } from "./grant-admin-sql.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Rows per `wrangler d1 execute` call: keeps each command line well under the OS limit. */
const BATCH = 25;

function usage(message) {
  if (message) console.error(message);
  console.error("usage: npm run keys:rotate-tokens [-- --local|--remote]");
  process.exit(2);
}

function parseArgs(argv) {
  const unknown = argv.filter((arg) => arg !== "--local" && arg !== "--remote");
  if (unknown.length > 0) usage(`unknown argument ${unknown.join(", ")}`);
  if (argv.includes("--local") && argv.includes("--remote")) usage("choose one of --local and --remote");
  return { remote: argv.includes("--remote") };
}

function keyEntries(remote) {
  let text = process.env.TOKEN_ENCRYPTION_KEYS;
  if (!text && !remote) {
    const devVars = resolve(root, ".dev.vars");
    if (existsSync(devVars)) text = parseDevVars(readFileSync(devVars, "utf8")).TOKEN_ENCRYPTION_KEYS;
  }
  if (!text) {
    throw new Error(
      remote
        ? "set TOKEN_ENCRYPTION_KEYS (newest first, as deployed) in the environment for --remote"
        : "no TOKEN_ENCRYPTION_KEYS in the environment or .dev.vars; run `npm run dev` once first",
    );
  }
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** The UPDATE for one re-encrypted row, guarded by the ciphertexts it was computed from. */
export function rotationUpdate(row, next) {
  return (
    `UPDATE connections SET access_token_ciphertext = ${sqlString(next.accessTokenCiphertext)}, ` +
    `refresh_token_ciphertext = ${sqlString(next.refreshTokenCiphertext)} ` +
    `WHERE id = ${sqlString(row.id)} AND access_token_ciphertext IS ${sqlString(row.accessTokenCiphertext)} ` +
    `AND refresh_token_ciphertext IS ${sqlString(row.refreshTokenCiphertext)}`
  );
}

async function rotate({ remote }) {
  const tokens = await bundleForNode('export * from "./src/providers/tokens.ts";');
  const keyring = await tokens.importTokenKeys(keyEntries(remote));
  const [rows] = executeD1(
    [
      "SELECT id, user_id, provider, access_token_ciphertext, refresh_token_ciphertext FROM connections " +
        "WHERE access_token_ciphertext IS NOT NULL OR refresh_token_ciphertext IS NOT NULL ORDER BY id",
    ],
    remote,
  );
  const updates = [];
  const unreadable = [];
  for (const stored of rows) {
    const row = {
      id: stored.id,
      userId: stored.user_id,
      provider: stored.provider,
      accessTokenCiphertext: stored.access_token_ciphertext,
      refreshTokenCiphertext: stored.refresh_token_ciphertext,
    };
    try {
      const next = await tokens.reencryptConnection(keyring, row);
      if (next) updates.push(rotationUpdate(row, next));
    } catch (error) {
      if (!(error instanceof tokens.TokenDecryptionError)) throw error;
      unreadable.push(`${row.id} (${error.reason})`);
    }
  }
  for (let start = 0; start < updates.length; start += BATCH) executeD1(updates.slice(start, start + BATCH), remote);
  const [[left]] = executeD1(
    [
      "SELECT count(*) AS n FROM connections WHERE " +
        `(access_token_ciphertext IS NOT NULL AND access_token_ciphertext NOT LIKE ${sqlString(`${keyring.currentId}.%`)}) OR ` +
        `(refresh_token_ciphertext IS NOT NULL AND refresh_token_ciphertext NOT LIKE ${sqlString(`${keyring.currentId}.%`)})`,
    ],
    remote,
  );
  console.log(
    `${rows.length} connection(s) with tokens, ${updates.length} re-encrypted under ${keyring.currentId}; ` +
      `${left?.n ?? 0} still under an older key`,
  );
  if (unreadable.length > 0) {
    console.error(`could not open (key no longer configured, or not authentic): ${unreadable.join(", ")}`);
    process.exitCode = 1;
  } else if ((left?.n ?? 0) > 0) {
    console.error("some rows changed meanwhile (a token refresh); run the command again");
    process.exitCode = 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    await rotate(parseArgs(process.argv.slice(2)));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
