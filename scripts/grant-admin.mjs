#!/usr/bin/env node
// `npm run admin:grant -- <username> [--local|--remote]`: makes an existing user an admin.
//
// The documented way to create the first admin (only an admin may change roles through the API).
// Sign up in the portal first, then run this with the username. --local (the default) writes the
// `npm run dev` database under PERSIST_DIR (default .wrangler/state); --remote writes the deployed
// D1 of `[env.production]` (the one `npm run deploy` uses) through wrangler's credentials. The
// role change is recorded as a `user.role_change` security event chained like every other
// (scripts/grant-admin-sql.mjs), so GET /v1/audit/verify still verifies afterwards.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { grantRoleSql, lookupStatements } from "./grant-admin-sql.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = resolve(root, "node_modules/.bin/wrangler");
const MAX_ATTEMPTS = 5;

function usage(message) {
  if (message) console.error(message);
  console.error("usage: npm run admin:grant -- <username> [--local|--remote]");
  process.exit(2);
}

function parseArgs(argv) {
  const flags = argv.filter((arg) => arg.startsWith("--"));
  const names = argv.filter((arg) => !arg.startsWith("--"));
  const unknown = flags.filter((flag) => flag !== "--local" && flag !== "--remote");
  if (unknown.length > 0) usage(`unknown option ${unknown.join(", ")}`);
  if (flags.includes("--local") && flags.includes("--remote")) usage("choose one of --local and --remote");
  if (names.length !== 1) usage("give exactly one username");
  return { username: names[0], remote: flags.includes("--remote") };
}

/** Runs statements as one `wrangler d1 execute --json --command`; returns each statement's rows. */
function execute(statements, remote) {
  const sql = statements.join("; ");
  const target = remote
    ? ["--remote", "--env", "production"]
    : ["--local", "--persist-to", resolve(root, process.env.PERSIST_DIR ?? ".wrangler/state")];
  const result = spawnSync(wrangler, ["d1", "execute", "DB", ...target, "--json", "--command", sql], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CI: "true" },
  });
  let output;
  try {
    output = JSON.parse(result.stdout);
  } catch {
    throw new Error(`wrangler d1 execute failed:\n${result.stderr || result.stdout}`);
  }
  if (result.status !== 0 || !Array.isArray(output)) throw new Error(output?.error?.text ?? "wrangler d1 execute failed");
  return output.map((statement) => statement.results ?? []);
}

async function grant({ username, remote }) {
  for (let attempt = 1; ; attempt++) {
    const [users, tails] = execute(lookupStatements(username), remote);
    const user = users?.[0];
    if (!user) throw new Error(`no user named "${username}": sign up first (npm run dev, then the portal)`);
    if (user.role === "admin") return `${username} (${user.id}) is already an admin`;
    const { statements, event } = await grantRoleSql({ user, tail: tails?.[0] ?? null });
    try {
      execute(statements, remote);
    } catch (error) {
      // Another append took our place in the chain: retry against the new tail.
      if (attempt < MAX_ATTEMPTS && /security_events\.seq/.test(String(error?.message))) continue;
      throw error;
    }
    const [[after]] = execute(lookupStatements(username), remote);
    if (after?.role !== "admin") throw new Error(`${username}'s role changed meanwhile; run the command again`);
    return `${username} (${user.id}) is now an admin (security event #${event.seq})`;
  }
}

try {
  console.log(await grant(parseArgs(process.argv.slice(2))));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
