#!/usr/bin/env node
// `npm run admin:grant -- <username> [--local|--remote]`: makes an existing user an admin.
//
// The documented way to create the first admin (only an admin may change roles through the API).
// Sign up in the portal first, then run this with the username. --local (the default) writes the
// `npm run dev` database under PERSIST_DIR (default .wrangler/state); --remote writes the deployed
// D1 of `[env.production]` (the one `npm run deploy` uses) through wrangler's credentials. The
// role change is recorded as a `user.role_change` security event chained like every other
// (scripts/grant-admin-sql.mjs), so GET /v1/audit/verify still verifies afterwards.
import { executeD1 } from "./d1-execute.mjs";
import { grantRoleSql, lookupStatements } from "./grant-admin-sql.mjs";

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

async function grant({ username, remote }) {
  for (let attempt = 1; ; attempt++) {
    const [users, tails] = executeD1(lookupStatements(username), remote);
    const user = users?.[0];
    if (!user) throw new Error(`no user named "${username}": sign up first (npm run dev, then the portal)`);
    if (user.role === "admin") return `${username} (${user.id}) is already an admin`;
    const { statements, event } = await grantRoleSql({ user, tail: tails?.[0] ?? null });
    try {
      executeD1(statements, remote);
    } catch (error) {
      // Another append took our place in the chain: retry against the new tail.
      if (attempt < MAX_ATTEMPTS && /security_events\.seq/.test(String(error?.message))) continue;
      throw error;
    }
    const [[after]] = executeD1(lookupStatements(username), remote);
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
