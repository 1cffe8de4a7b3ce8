// The D1 database from the command line (admin:grant, keys:rotate-tokens): local under PERSIST_DIR
// by default, the production database with `remote`.
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = resolve(root, "node_modules/.bin/wrangler");

/** Runs statements as one `wrangler d1 execute --json --command`; returns each statement's rows. */
export function executeD1(statements, remote) {
  const persistTo = resolve(root, process.env.PERSIST_DIR ?? ".wrangler/state");
  const target = remote ? ["--remote", "--env", "production"] : ["--local", "--persist-to", persistTo];
  const result = spawnSync(wrangler, ["d1", "execute", "DB", ...target, "--json", "--command", statements.join("; ")], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CI: "true" },
  });
  let output;
  try {
    output = JSON.parse(result.stdout);
  } catch {
    throw new Error(`wrangler d1 execute failed:\n${result.stderr || result.stdout}`);
  }
  if (result.status !== 0 || !Array.isArray(output)) {
    const text = output?.error?.text ?? "wrangler d1 execute failed";
    // An empty local database: the state of `npm run dev` lives elsewhere (or it never ran).
    if (!remote && /no such table/.test(text)) {
      throw new Error(
        `${text}: no Pulse database under ${persistTo}. Start \`npm run dev\` first, and give this command the same PERSIST_DIR as the server.`,
      );
    }
    throw new Error(text);
  }
  return output.map((statement) => statement.results ?? []);
}
