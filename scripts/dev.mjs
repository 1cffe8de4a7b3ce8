#!/usr/bin/env node
// `npm run dev`: everything a fresh clone needs to serve Pulse locally, safe to re-run.
//  1. .dev.vars with freshly generated development keys, when missing (never overwritten).
//  2. Local D1 migrations applied under PERSIST_DIR (already-applied ones are skipped).
//  3. The local enclave-bridge (DESIGN §9): the enclave application with a simulated Nitro Security
//     Module and the built-in analyst, and the parent proxy in front of it, each its own process;
//     the Worker is pointed at the proxy and pins the development root and PCRs. ENCLAVE_BRIDGE=off
//     skips it (the AI routes then answer 503); ENCLAVE_LLAMA_MODEL=FILE.gguf runs that open-weights
//     model in the enclave instead of the analyst, on ENCLAVE_LLAMA_THREADS threads (default: the
//     CPU's cores) (docs/confidential-ai.md "A model inside the enclave").
//  4. The sandbox provider (tools/sandbox-provider; docs/providers.md "The sandbox provider"): a
//     local fake wearable with OAuth, generated data and signed webhooks, on SANDBOX_PROVIDER_PORT
//     (default: a free port), its credentials in .dev.vars PROVIDER_CREDENTIALS; it pushes new data
//     every SANDBOX_PUSH_EVERY_SECONDS (default 60, 0 turns it off). SANDBOX_PROVIDER=off skips it.
//  5. `wrangler dev` on PORT (default 8787) with state under PERSIST_DIR (default .wrangler/state).
//  6. The web app (web/) built into dist/web once, then rebuilt on every change (build-web.mjs --watch);
//     wrangler dev serves the new files at once. WEB_WATCH=off builds once only.
//  7. The Worker's cron triggers fired on their schedules (./dev-crons.mjs), which wrangler dev does
//     not do; DEV_CRONS=off turns them off.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readCrons, startCronTriggers } from "./dev-crons.mjs";
import { formatDevVars, generateDevSecrets, generateSandboxCredentials, parseDevVars } from "./dev-vars.mjs";
import { freePort } from "./free-port.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";
const persistDir = resolve(root, process.env.PERSIST_DIR ?? ".wrangler/state");
const wrangler = resolve(root, "node_modules/.bin/wrangler");
// Nothing may reach the internet at runtime: no telemetry, no update checks.
// Pulse binds no Worker of another `wrangler dev`, so it keeps its own dev registry beside its state:
// with the shared one (~/.config/.wrangler/registry), every other `wrangler dev` starting or stopping
// on the machine reloads this Worker, cutting off requests in flight (a long FHIR export, an upload).
const wranglerEnv = {
  WRANGLER_REGISTRY_PATH: resolve(persistDir, "dev-registry"),
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
};

if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
  console.error(`PORT must be a TCP port number (1-65535); got "${port}".`);
  process.exit(2);
}

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `wrangler needs Node >= 22.12, this is ${process.version}. Run through npm (\`npm run dev\`), which uses the project's own Node from node_modules/.bin.`,
  );
  process.exit(2);
}

async function ensureDevVars() {
  const file = resolve(root, ".dev.vars");
  const fresh = { ...(await generateDevSecrets()), PROVIDER_CREDENTIALS: generateSandboxCredentials() };
  if (!existsSync(file)) {
    writeFileSync(file, formatDevVars(fresh), { mode: 0o600 });
    console.log("created .dev.vars with fresh development keys");
    return;
  }
  // Keep what exists; add only settings a newer version of Pulse needs.
  const existing = parseDevVars(readFileSync(file, "utf8"));
  const missing = Object.keys(fresh).filter((name) => !(name in existing));
  if (missing.length > 0) {
    const additions = Object.fromEntries(missing.map((name) => [name, fresh[name]]));
    writeFileSync(file, `${readFileSync(file, "utf8").trimEnd()}\n${formatDevVars(additions).split("\n").slice(2).join("\n")}`);
    console.log(`added ${missing.join(", ")} to .dev.vars`);
  }
}

function applyMigrations() {
  const result = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
    cwd: root,
    stdio: "inherit",
    env: { ...wranglerEnv, CI: "true" },
  });
  if (result.status !== 0) {
    console.error("applying local D1 migrations failed");
    process.exit(result.status ?? 1);
  }
}

const children = [];

/** Starts the enclave and its proxy; returns the `--var` settings that point the Worker at them. */
async function startEnclaveBridge() {
  const stateDir = resolve(persistDir, "enclave-bridge");
  const { developmentEnclave } = await import("../enclave-bridge/src/dev.ts");
  const identity = await developmentEnclave(stateDir);
  const enclavePort = await freePort();
  const proxyPort = process.env.ENCLAVE_BRIDGE_PORT ?? String(await freePort());
  const cli = resolve(root, "enclave-bridge/src/cli.ts");
  const token = parseDevVars(readFileSync(resolve(root, ".dev.vars"), "utf8")).ENCLAVE_BRIDGE_TOKEN;
  const start = (args, env = {}) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
    child.on("exit", (code, signal) => {
      if (!shuttingDown) console.error(`enclave-bridge ${args[0]} stopped (${signal ?? code}); /v1/ai/* will answer 503`);
    });
    children.push(child);
  };
  const llama = process.env.ENCLAVE_LLAMA_MODEL;
  const threads = process.env.ENCLAVE_LLAMA_THREADS;
  const model = llama
    ? ["--model", "llama", "--model-path", resolve(llama), ...(threads ? ["--model-threads", threads] : [])]
    : [];
  start(["enclave", "--listen", `127.0.0.1:${enclavePort}`, "--nsm", "simulated", "--state-dir", stateDir, ...model]);
  start(["proxy", "--listen", `127.0.0.1:${proxyPort}`, "--enclave", `tcp://127.0.0.1:${enclavePort}`], { BRIDGE_TOKEN: token });
  const rootDer = identity.rootPem.replace(/-----[A-Z ]+-----|\s/g, "");
  return {
    ENCLAVE_BRIDGE_URL: `http://127.0.0.1:${proxyPort}`,
    ENCLAVE_PCR0: identity.pcrs[0],
    ENCLAVE_PCR1: identity.pcrs[1],
    ENCLAVE_PCR2: identity.pcrs[2],
    ENCLAVE_ROOT_CERTIFICATE: rootDer,
    ENCLAVE_ROOT_SHA256: identity.rootSha256,
  };
}

/** Starts the sandbox provider; returns the `--var` settings that turn it on in the Worker. */
async function startSandboxProvider() {
  const vars = parseDevVars(readFileSync(resolve(root, ".dev.vars"), "utf8"));
  let credentials;
  try {
    credentials = JSON.parse(vars.PROVIDER_CREDENTIALS ?? "{}").sandbox;
  } catch {
    credentials = undefined;
  }
  if (!credentials?.clientId || !credentials.clientSecret || !credentials.webhookSigningSecret) {
    console.error(
      'sandbox provider not started: PROVIDER_CREDENTIALS in .dev.vars has no "sandbox" entry with clientId, clientSecret and webhookSigningSecret',
    );
    return {};
  }
  const sandboxPort = process.env.SANDBOX_PROVIDER_PORT ?? String(await freePort());
  const child = spawn(process.execPath, [resolve(root, "tools/sandbox-provider/cli.ts")], {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      SANDBOX_PROVIDER_PORT: sandboxPort,
      SANDBOX_CLIENT_ID: credentials.clientId,
      SANDBOX_CLIENT_SECRET: credentials.clientSecret,
      SANDBOX_WEBHOOK_SIGNING_SECRET: credentials.webhookSigningSecret,
      // The Worker's callback is JWT_ISSUER's origin + /oauth/sandbox/callback (http://localhost:PORT).
      SANDBOX_REDIRECT_URI_PREFIX: `http://localhost:${port}/oauth/sandbox/callback`,
      SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/sandbox`,
      SANDBOX_PUSH_EVERY_SECONDS: process.env.SANDBOX_PUSH_EVERY_SECONDS ?? "60",
    },
  });
  child.on("exit", (code, signal) => {
    if (!shuttingDown) console.error(`sandbox provider stopped (${signal ?? code}); connecting it will fail`);
  });
  children.push(child);
  return { ENABLE_SANDBOX_PROVIDER: "true", SANDBOX_PROVIDER_ORIGIN: `http://127.0.0.1:${sandboxPort}` };
}

/** Builds the web app once (wrangler must find dist/web), then keeps rebuilding it on change. */
function buildWebApp() {
  const build = spawnSync(process.execPath, [resolve(root, "scripts/build-web.mjs")], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) {
    console.error("the web app did not build (scripts/build-web.mjs); fix the error above and run npm run dev again");
    process.exit(1);
  }
  if (process.env.WEB_WATCH === "off") return;
  const watcher = spawn(process.execPath, [resolve(root, "scripts/build-web.mjs"), "--watch"], { cwd: root, stdio: "inherit" });
  children.push(watcher);
}

let shuttingDown = false;
await ensureDevVars();
applyMigrations();
buildWebApp();
const enclaveVars = process.env.ENCLAVE_BRIDGE === "off" ? {} : await startEnclaveBridge();
const sandboxVars = process.env.SANDBOX_PROVIDER === "off" ? {} : await startSandboxProvider();
// The API's own origin follows PORT: OAuth redirect URIs (/oauth/:provider/callback) and the
// web app's passkey origin are built from it, so a dev server on another port must not name 8787.
const originVars = port === "8787" ? {} : { JWT_ISSUER: `http://localhost:${port}` };

const args = [
  "dev",
  "--port",
  port,
  "--ip",
  process.env.HOST ?? "127.0.0.1",
  "--persist-to",
  persistDir,
  "--show-interactive-dev-session=false",
  ...Object.entries({ ...enclaveVars, ...sandboxVars, ...originVars }).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
];
const child = spawn(wrangler, args, { cwd: root, stdio: "inherit", env: wranglerEnv });
children.push(child);

let cronTriggers = { stop() {} };
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    shuttingDown = true;
    cronTriggers.stop();
    for (const running of children) running.kill(signal);
  });
}
child.on("exit", (code, signal) => {
  shuttingDown = true;
  cronTriggers.stop();
  for (const running of children) running.kill("SIGTERM");
  process.exit(code ?? (signal ? 1 : 0));
});

if (process.env.DEV_CRONS !== "off") {
  const crons = await readCrons(resolve(root, "wrangler.toml"));
  const host = process.env.HOST && process.env.HOST !== "0.0.0.0" ? process.env.HOST : "127.0.0.1";
  if (!shuttingDown) {
    cronTriggers = startCronTriggers({ origin: `http://${host}:${port}`, crons });
    console.log(`cron triggers fire on their schedules (UTC): ${crons.join(", ")}`);
  }
}
