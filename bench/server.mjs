// Serves the bench Worker bundle on one local workerd instance (Miniflare, the runtime behind
// `wrangler dev` and the worker tests) with every binding from wrangler.toml: real local D1, R2,
// Queues and Durable Objects, state in a throw-away directory. Miniflare directly rather than
// `wrangler dev`, whose reload proxy would add a second hop to every request being measured.
import { readdirSync, readFileSync } from "node:fs";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { generateDevSecrets } from "../scripts/dev-vars.mjs";

/**
 * Counts worker log lines and keeps the last ones, errors apart: the per-IP limiter fails open (it
 * logs an error and lets the request through), so a clean status code alone would not prove that
 * the stack measured is the stack that runs.
 */
function logBook(limit) {
  const recent = [];
  const errors = [];
  let count = 0;
  const keep = (list, line) => {
    list.push(line);
    if (list.length > limit) list.shift();
  };
  return {
    push({ level, message }) {
      count += 1;
      const line = `${level}: ${message}`;
      keep(recent, line);
      if (level === "error" || message.includes('"level":"error"')) keep(errors, line);
    },
    get count() {
      return count;
    },
    get errors() {
      return errors;
    },
    text: () => recent.join("\n"),
  };
}

/**
 * Starts workerd on 127.0.0.1 (a free port) serving `modulePath`. Bindings are the [vars] of
 * wrangler.toml plus freshly generated development secrets plus `overrides`: a developer's
 * .dev.vars never reaches the bench, and no state is written outside `persistDir`.
 */
export async function startBenchWorker({ root, bundleDir, modulePath, persistDir, overrides = {}, inspector = false }) {
  const configPath = `${root}/wrangler.toml`;
  const config = unstable_readConfig({ config: configPath }, { hideWarnings: true });
  // Options the bundle does not need (rules for unbundled imports, source root) are dropped:
  // Miniflare's v5 options cannot express them and the bundle is self-contained.
  const { modulesRules: _rules, rootPath: _root, ...workerOptions } = unstable_getMiniflareWorkerOptions(config).workerOptions;
  const logs = logBook(5);

  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...workerOptions,
      name: "pulse-bench",
      modulesRoot: bundleDir,
      modules: [{ type: "ESModule", path: modulePath }],
      bindings: { ...config.vars, ...(await generateDevSecrets()), ...overrides },
      host: "127.0.0.1",
      port: 0,
      resourcePersistencePath: persistDir,
      // Offline and self-contained: no cf-object download, no telemetry, no dev registry.
      cf: false,
      telemetry: { enabled: false },
      enableDevRegistry: false,
      logRequests: false,
      handleStructuredLogs: (log) => logs.push(log),
      // The V8 inspector, for CPU profiles of the isolate (./profile.mjs); loopback only.
      ...(inspector ? { inspectorPort: 0, inspectorHost: "127.0.0.1" } : {}),
    }),
  );
  const url = await mf.ready;
  await applyMigrations(mf, `${root}/migrations`);
  const inspectorUrl = inspector ? await mf.getInspectorURL() : undefined;
  return { url, logs, inspectorUrl, dispose: () => mf.dispose() };
}

/** The D1 migrations, in order, as `wrangler d1 migrations apply` would run them. */
async function applyMigrations(mf, dir) {
  const db = await mf.getD1Database("DB");
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort()) {
    const statements = readFileSync(`${dir}/${file}`, "utf8")
      .split("--> statement-breakpoint")
      .map((statement) => statement.trim())
      .filter(Boolean);
    await db.batch(statements.map((statement) => db.prepare(statement)));
  }
}
