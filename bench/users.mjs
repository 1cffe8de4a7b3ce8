#!/usr/bin/env node
// `npm run load -- --users N`: N simulated people against one local workerd (./population.mjs),
// what each costs counted by the Worker itself. Builds the bench Worker (bench/worker.ts), serves
// it on 127.0.0.1 with real local D1, R2, Queues and Durable Objects in a throw-away directory,
// prints markdown tables and writes bench/results/load-<N>.json (docs/benchmarks.md, "Load").
//
// Options: --users <n> (required), --time-limit <s> (default max(300 s, 1.2 s per person): 20 min
// for 1,000), --seed <k> (1), --think-ms <ms> mean pause between a person's steps (500),
// --arrival-rate <people/s> (2), --max-active <n> people at once (40), --out <file> (the JSON;
// default bench/results/load-<N>.json), --settle-limit <s> how long to wait, once everyone is done,
// for the messages they queued to be delivered (120; the narrative refresh is delayed a minute;
// 0: not waited for, and the JSON says `settled: false`). Exit 1 when an answer is wrong or the
// time limit passes.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildWorker, runningBuilds } from "./build.mjs";
import { formatPopulation, runPopulation } from "./population.mjs";
import { killWorkerdChildren, workerdCpuMeter } from "./processes.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`wrangler needs Node >= 22.12, this is ${process.version}. Run \`npm run load\`, which uses the project's Node.`);
  process.exit(2);
}

const { values: options } = parseArgs({
  options: {
    users: { type: "string" },
    "time-limit": { type: "string" },
    seed: { type: "string", default: "1" },
    "think-ms": { type: "string", default: "500" },
    "arrival-rate": { type: "string", default: "2" },
    "max-active": { type: "string", default: "40" },
    "settle-limit": { type: "string", default: "120" },
    out: { type: "string" },
  },
});
const users = Number(options.users);
const seed = Number(options.seed);
const thinkMs = Number(options["think-ms"]);
const arrivalRate = Number(options["arrival-rate"]);
const maxActive = Number(options["max-active"]);
const settleLimitSeconds = Number(options["settle-limit"]);
const timeLimitSeconds = options["time-limit"] === undefined ? Math.max(300, 1.2 * users) : Number(options["time-limit"]);
if (
  !Number.isInteger(users) ||
  users < 1 ||
  users > 100_000 ||
  !Number.isInteger(seed) ||
  !(thinkMs >= 0) ||
  !(arrivalRate >= 0) ||
  !(Number.isInteger(maxActive) && maxActive >= 1) ||
  !(timeLimitSeconds > 0) ||
  !(settleLimitSeconds >= 0)
) {
  console.error(
    "usage: npm run load -- --users N [--time-limit S] [--seed K] [--think-ms MS] [--arrival-rate R] [--max-active M] [--settle-limit S2] [--out FILE]\n" +
      "  N a whole number from 1 to 100000; S > 0; K a whole number; MS, R and S2 >= 0; M >= 1",
  );
  process.exit(2);
}
const outFile = resolve(options.out ?? join(root, "bench", "results", `load-${users}.json`));

process.env.WRANGLER_LOG ??= "warn";
const { startBenchWorker } = await import("./server.mjs");

const workDir = mkdtempSync(join(tmpdir(), "pulse-load-"));
let server;

/** Synchronous, so it also works from an `exit` listener after a signal or a crash. */
function cleanupNow() {
  for (const child of runningBuilds) child.kill("SIGTERM");
  killWorkerdChildren();
  rmSync(workDir, { recursive: true, force: true });
}
process.on("exit", cleanupNow);
for (const signal of ["SIGINT", "SIGTERM"])
  process.on(signal, () => {
    console.error(`load stopped by ${signal}`);
    process.exit(130);
  });
// A hang guard beyond the run's own limit: the build and start-up get two minutes more.
const watchdog = setTimeout(
  () => {
    console.error(`load did not finish within ${Math.round(timeLimitSeconds + 120)} s (build included); stopping.`);
    process.exit(1);
  },
  (timeLimitSeconds + 120) * 1000,
);
watchdog.unref();

const step = (text) => console.error(`· ${text}`);

function gitRevision() {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return "unknown";
  }
}

function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: process.platform,
  };
}

// Taken before the run: the code measured is the code built at its start.
const revision = gitRevision();

async function main() {
  // wrangler.toml names dist/web as the Worker's assets: the bundle cannot be built without it.
  if (!existsSync(join(root, "dist", "web"))) {
    step("building the web app once (npm run build:web): wrangler needs dist/web to bundle the Worker");
    execFileSync(process.execPath, [join(root, "scripts/build-web.mjs")], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  }
  step("bundling bench/worker.ts with wrangler deploy --dry-run");
  const [file] = await buildWorker({ root, outDir: join(workDir, "bench"), entry: "bench/worker.ts" });
  step("starting workerd (Miniflare) on 127.0.0.1 with local D1, R2, Queues and Durable Objects");
  const persistDir = join(workDir, "state");
  server = await startBenchWorker({
    root,
    bundleDir: join(workDir, "bench"),
    modulePath: join(workDir, "bench", file),
    persistDir,
  });
  const cpuMeter = workerdCpuMeter();
  if (cpuMeter === undefined) step("workerd CPU cannot be read here (no /proc): CPU per person shows n/a");
  step(
    `load: ${users} people, ${arrivalRate > 0 ? `${arrivalRate} arriving a second` : "all at once"}, at most ${maxActive} at once, ` +
      `~${thinkMs} ms between steps, time limit ${Math.round(timeLimitSeconds)} s`,
  );
  const result = await runPopulation({
    baseUrl: server.url,
    users,
    seed,
    thinkMs,
    arrivalRate,
    maxActive,
    timeLimitMs: timeLimitSeconds * 1000,
    settleLimitMs: settleLimitSeconds * 1000,
    cpuMeter,
    step,
  });
  const errors = server.logs.errors;
  if (errors.length > 0) throw new Error(`the worker logged errors, figures discarded:\n${errors.join("\n")}`);
  const measured = { ...result, gitRevision: revision, measuredAt: new Date().toISOString(), machine: machine() };
  console.log(formatPopulation(measured));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(measured, null, 2)}\n`);
  console.log(`\nresults saved to ${outFile}`);
}

let exitCode = 1;
try {
  await main();
  exitCode = 0;
} catch (error) {
  console.error(`\nload failed: ${error instanceof Error ? error.message : String(error)}`);
  if (server && server.logs.count > 0) console.error(`last worker log lines:\n${server.logs.text()}`);
} finally {
  clearTimeout(watchdog);
  await server?.dispose().catch(() => {});
}
process.exit(exitCode);
