#!/usr/bin/env node
// `npm run admin:grant -- <username> [--role admin|clinician|researcher|auditor|patient] [--local|--remote]`:
// gives an existing user a role (default admin).
//
// The documented way to create the first admin (only an admin may change roles through the API),
// and, locally, a quick way to make a test account a clinician or an auditor. Sign up first, then
// run this with the username. --local (the default) writes the `npm run dev` database under
// PERSIST_DIR (default .wrangler/state); --remote writes the deployed D1 of `[env.production]` (the
// one `npm run deploy` uses) through wrangler's credentials. The role change is recorded as a
// `user.role_change` security event chained like every other, salted commitments included
// (scripts/grant-admin-sql.mjs), so GET /v1/audit/verify still verifies afterwards and deleting
// the account later can erase it.
import { executeD1 } from "./d1-execute.mjs";
import { grantRoleSql, lookupStatements, USER_ROLES } from "./grant-admin-sql.mjs";

const MAX_ATTEMPTS = 5;
const USAGE = `usage: npm run admin:grant -- <username> [--role ${USER_ROLES.join("|")}] [--local|--remote]`;

function usage(message) {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { role: "admin", remote: false };
  const names = [];
  const seen = new Set();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      names.push(arg);
      continue;
    }
    const [flag, inline] = arg.split(/=(.*)/s, 2);
    if (seen.has(flag)) usage(`${flag} given twice`);
    seen.add(flag);
    if (flag === "--role") {
      const value = inline ?? argv[++i];
      if (!USER_ROLES.includes(value)) usage(`--role must be one of ${USER_ROLES.join(", ")}`);
      options.role = value;
    } else if ((flag === "--local" || flag === "--remote") && inline === undefined) {
      options.remote = flag === "--remote";
    } else usage(`unknown option ${arg}`);
  }
  if (seen.has("--local") && seen.has("--remote")) usage("choose one of --local and --remote");
  if (names.length !== 1) usage("give exactly one username");
  return { ...options, username: names[0] };
}

async function grant({ username, role, remote }) {
  for (let attempt = 1; ; attempt++) {
    const [users, tails] = executeD1(lookupStatements(username), remote);
    const user = users?.[0];
    if (!user) throw new Error(`no user named "${username}": sign up first (npm run dev, then the web app at /app)`);
    if (user.role === role) return `${username} (${user.id}) is already ${article(role)} ${role}`;
    const { statements, event } = await grantRoleSql({ user, tail: tails?.[0] ?? null, role });
    try {
      executeD1(statements, remote);
    } catch (error) {
      // Another append took our place in the chain: retry against the new tail.
      if (attempt < MAX_ATTEMPTS && /security_events\.seq/.test(String(error?.message))) continue;
      throw error;
    }
    const [[after]] = executeD1(lookupStatements(username), remote);
    if (after?.role !== role) throw new Error(`${username}'s role changed meanwhile; run the command again`);
    return `${username} (${user.id}) is now ${article(role)} ${role} (security event #${event.seq})`;
  }
}

function article(role) {
  return /^[aeiou]/.test(role) ? "an" : "a";
}

try {
  console.log(await grant(parseArgs(process.argv.slice(2))));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
