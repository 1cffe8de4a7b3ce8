#!/usr/bin/env node
// `npm run bench`: what the middleware stack, an authenticated route and /health cost against a bare Response, in the same
// workerd and the same run, plus the gzip size of the deployable bundle. See docs/benchmarks.md.
//
// Options: --duration <s> per route per round (default 5), --rounds <n> (3), --warmup <s> before each
// measurement (1; the first round also gets a longer warm-up of every route),
// --concurrency <n> requests in flight (16), --strict (exit 1 when a target is missed).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildWorker, bundleComposition, bundleSize, runningBuilds } from "./build.mjs";
import { runLoad } from "./load.mjs";
import { killWorkerdChildren, workerdCpuMeter } from "./processes.mjs";
import { formatBytes, formatRatio, formatResults, ratios, summarize, verdict } from "./report.mjs";
import { checkRoutes, prepareRoutes, ROUTES } from "./routes.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE_TARGET_BYTES = 1024 * 1024;
const STACK_TARGET_RATIO = 2;
const WATCHDOG_MS = 5 * 60_000;
const INITIAL_WARMUP_MS = 2_000;

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `wrangler needs Node >= 22.12, this is ${process.version}. Run \`npm run bench\`, which uses the project's Node.`,
  );
  process.exit(2);
}

const { values: options } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    concurrency: { type: "string", default: "16" },
    strict: { type: "boolean", default: false },
  },
});
const durationMs = Number(options.duration) * 1000;
const warmupMs = Number(options.warmup) * 1000;
const rounds = Number(options.rounds);
const concurrency = Number(options.concurrency);
if (![durationMs, warmupMs, rounds, concurrency].every((n) => Number.isFinite(n) && n > 0) || concurrency > 256) {
  console.error("--duration, --warmup, --rounds and --concurrency must be positive numbers (concurrency at most 256).");
  process.exit(2);
}

// Wrangler's own chatter ("Using secrets defined in .dev.vars") would be misleading: the bench
// builds its bindings itself. Set before wrangler is loaded.
process.env.WRANGLER_LOG ??= "warn";
const { startBenchWorker } = await import("./server.mjs");

const workDir = mkdtempSync(join(tmpdir(), "pulse-bench-"));
let server;

/** Synchronous, so it also works from an `exit` listener after a signal or a crash. */
function cleanupNow() {
  for (const child of runningBuilds) child.kill("SIGTERM");
  killWorkerdChildren();
  rmSync(workDir, { recursive: true, force: true });
}
process.on("exit", cleanupNow);
// Miniflare exits on these signals too, without waiting for its own dispose; either way the
// `exit` listener above stops workerd and removes the temporary state.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));
const watchdog = setTimeout(() => {
  console.error(`bench did not finish within ${WATCHDOG_MS / 1000} s; stopping.`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

const step = (text) => console.log(`· ${text}`);

function assertNoWorkerErrors() {
  const { errors } = server.logs;
  if (errors.length > 0) throw new Error(`the worker logged errors, figures discarded:\n${errors.join("\n")}`);
}

async function main() {
  step("bundling src/index.ts (deploy bundle) and bench/worker.ts with wrangler deploy --dry-run");
  const [appFiles, benchFiles] = await Promise.all([
    buildWorker({ root, outDir: join(workDir, "app") }),
    buildWorker({ root, outDir: join(workDir, "bench"), entry: "bench/worker.ts" }),
  ]);
  const size = { ...bundleSize(join(workDir, "app"), appFiles), largest: bundleComposition(join(workDir, "app")) };

  step("starting workerd (Miniflare) on 127.0.0.1 with local D1, R2, Queues and Durable Objects");
  server = await startBenchWorker({
    root,
    bundleDir: join(workDir, "bench"),
    modulePath: join(workDir, "bench", benchFiles[0]),
    persistDir: join(workDir, "state"),
    // The stack run sends thousands of requests a minute from one address; at the default 600/min
    // the per-IP limit would answer 429. Each load request therefore carries its own client address
    // (bench/routes.mjs), so the limiter does its full work on every request without refusing.
  });
  const cpuMeter = workerdCpuMeter();
  if (cpuMeter === undefined) step("workerd CPU cannot be read here (no /proc): CPU columns show n/a");
  await prepareRoutes(server.url);
  const notes = await checkRoutes(server.url);
  assertNoWorkerErrors();
  for (const note of notes) step(note);

  // JIT in workerd and in the client, SQLite caches, connection pools: none of it should land in
  // the first measured route only.
  step(`warming up every route (${(INITIAL_WARMUP_MS / 1000) * ROUTES.length} s)`);
  for (const route of ROUTES) {
    const url = new URL(route.path, server.url).href;
    await runLoad({ url, headers: route.headers, concurrency, warmupMs: INITIAL_WARMUP_MS, durationMs: 1 });
  }

  const samples = new Map(ROUTES.map((route) => [route.key, []]));
  for (let round = 1; round <= rounds; round += 1) {
    // Routes alternate within each round so a noisy neighbour on the shared cores hits all of them.
    for (const route of ROUTES) {
      step(`round ${round}/${rounds}: ${route.id} ${route.label} (${concurrency} in flight, ${durationMs / 1000} s)`);
      const url = new URL(route.path, server.url).href;
      samples.get(route.key).push(await runLoad({ url, headers: route.headers, concurrency, warmupMs, durationMs, cpuMeter }));
      assertNoWorkerErrors();
    }
  }
  // Logs arrive over workerd's stdout slightly after the answers they describe.
  await delay(250);
  assertNoWorkerErrors();

  const results = ROUTES.map((route) => ({ ...route, summary: summarize(samples.get(route.key)) }));
  const bare = results[0].summary;
  const compared = Object.fromEntries(results.slice(1).map(({ key, summary }) => [key, ratios(summary, bare)]));

  console.log(
    `\nPulse bench, ${new Date().toISOString()}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "unknown"}), Node ${process.version}`,
  );
  console.log(`one workerd, loopback, ${concurrency} requests in flight, ${rounds} rounds x ${durationMs / 1000} s per route\n`);
  console.log(formatResults(results));
  console.log("");
  for (const route of results.slice(1)) console.log(formatRatio(route, compared[route.key]));
  const stack = compared.stack;
  console.log(
    `target (b) <= ${STACK_TARGET_RATIO}x (a): throughput ${verdict(stack.cost <= STACK_TARGET_RATIO)}, ` +
      `workerd CPU ${verdict(stack.cpu <= STACK_TARGET_RATIO)}`,
  );
  console.log(
    `bundle (src/index.ts): ${formatBytes(size.gzip)} gzipped (${formatBytes(size.raw)} raw, ${size.files.join(", ")})` +
      `  target < ${formatBytes(BUNDLE_TARGET_BYTES)}: ${verdict(size.gzip < BUNDLE_TARGET_BYTES)}`,
  );
  console.log(`largest parts (raw): ${size.largest.map(({ name, bytes }) => `${name} ${formatBytes(bytes)}`).join(", ")}`);
  console.log(`worker log lines during the run: ${server.logs.count}`);

  const resultsDir = join(root, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const record = { date: new Date().toISOString(), cpus: cpus().length, node: process.version, concurrency, rounds, durationMs };
  const routes = results.map(({ key, path, summary }) => ({ key, path, ...summary }));
  writeFileSync(file, `${JSON.stringify({ ...record, routes, ratios: compared, bundle: size }, null, 2)}\n`);
  console.log(`results saved to ${file}`);

  const missed = !(stack.cost <= STACK_TARGET_RATIO && stack.cpu <= STACK_TARGET_RATIO) || size.gzip >= BUNDLE_TARGET_BYTES;
  return options.strict && missed ? 1 : 0;
}

let exitCode = 1;
try {
  exitCode = await main();
} catch (error) {
  console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
  if (server && server.logs.count > 0) console.error(`last worker log lines:\n${server.logs.text()}`);
} finally {
  clearTimeout(watchdog);
  await server?.dispose().catch(() => {});
}
process.exit(exitCode);
