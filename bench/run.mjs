#!/usr/bin/env node
// `npm run bench`: every figure against a reference measured in the same run (docs/benchmarks.md).
//  http   what the middleware stack, an authenticated route and /health cost against a bare Response
//         in the same workerd, plus the gzip size of the deployable bundle;
//  avro   the Worker's Avro reader against avsc on the same file (./avro-decode.mjs);
//  ingest a generated 7-day export, first byte posted to all queryable in workerd, against decoding
//         and inserting the same rows into node:sqlite in process (./ingest.mjs);
//  query  p50/p99 of a 30-day hourly heart-rate query over HTTP against a plain SQL scan (./query.mjs);
//  providers  webhook acknowledgement p50/p99 at 50 senders, closed loop and paced (signed Oura
//         deliveries, each a new event: verified and queued with its payload) against the bare route
//         in the same run (./providers.mjs); a 90-day sandbox backfill, callback to readable, against
//         uploading the same observations (./backfill.mjs).
//  export a year of one person's data (525,600 heart-rate samples and more) exported through the
//         queue job: time, archive size, workerd peak RSS growth against a read of the same pages
//         in the same process (./export.mjs).
//  ai     what a confidential-AI question adds, model time excluded: HPKE and attestation in process
//         against a JSON round trip, and POST /v1/ai/query over HTTP, attestation cached and not,
//         against a plain read of the same data (./ai.mjs); the analyst's question set: answered
//         correctly, correctly declined, wrong, and latency per question p50/p99 in process and
//         sealed, against a zero-time model's sealed round trip (./analyst.mjs); then generation time and tokens/s of the tiny
//         in-enclave llama.cpp model beside the cached-attestation ask (./ai.mjs).
//  sharing  a clinician's 30-day hourly read through a grant against the patient's own read of the
//         same data, alternating in the same run (./sharing.mjs).
//  fhir   a year of minute heart rate and 90 days of CGM in one store: GET /v1/me/export/fhir (the
//         streamed Bundle) time and memory under a capped V8 heap, against reading the same rows
//         through GET /v1/observations raw pages in the same run (./fhir.mjs);
//  narratives  GET /v1/narratives for weeks and days over that history (each date once), time and
//         workerd CPU per narrative, against daily-summary reads in the same run (./fhir.mjs; skipped
//         while the route answers 404).
//  audit  verifying a 100k-event sealed audit chain, per 10k events, against recomputing the live
//         chain alone and against WebCrypto SHA-256 of the same inputs (./audit.mjs).
//  load   a day of data for N = 10 and then N = 50 simulated people (session, four Avro uploads
//         ingested, latest values, daily summary, 30-day hourly series, token refresh) against the
//         same workerd: workerd CPU and D1 writes per person at 50 against 10, target within 1.5x;
//         every count from the bench Worker's own counters (./load-part.mjs, ./population.mjs).
//  web    the web app in headless Chromium: JS + CSS gzipped per page, and the time from navigation
//         to the first heart-rate chart drawn over a month of minute heart rate, against the same
//         API reads alone from the same page (./web.mjs; builds dist/web first).
//
// Options: --only <parts> (comma-separated, default all), --duration <s> per route per round
// (default 5), --rounds <n> (3), --warmup <s> before each measurement (1; the first round also gets
// a longer warm-up of every route), --concurrency <n> requests in flight (16), --ingest-rounds <n>
// (3), --backfill-rounds <n> (1), --web-runs <n> navigations per dashboard view (10), --providers <halves> (webhooks,backfill: either or both),
// --paced-rate <n> requests a second of the paced webhook run, all senders together (200),
// --query-requests <n> (300; also the sharing part's requests of each read), --ai-requests <n> questions per attestation mode over HTTP (200),
// --ai-runs <n> in-process runs of each confidential-AI stage (300), --profile (after the measured
// middleware, ingest and query runs, one more of the stack and authenticated routes and of each
// ingest and query run under the V8 CPU profiler: where workerd's CPU goes, .cpuprofile files in
// bench/results), --strict (exit 1 when a target is missed).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchAiHttp, benchAiInProcess, formatAi, stopAiBridge } from "./ai.mjs";
import { AUDIT_TARGET_RATIO, benchAudit, formatAudit } from "./audit.mjs";
import { AVRO_DECODE_TARGET, benchAvroDecode, formatAvroDecode } from "./avro-decode.mjs";
import { BENCH_SANDBOX_CREDENTIALS, backfillMissed, benchBackfill, formatBackfill, startBenchSandbox } from "./backfill.mjs";
import { buildWorker, bundleComposition, bundleSize, runningBuilds } from "./build.mjs";
import { benchExport, exportMissed, formatExport } from "./export.mjs";
import { benchFhir, fhirMissed, formatFhir } from "./fhir.mjs";
import { benchIngest, formatIngest, INGEST_TARGET_RATIO } from "./ingest.mjs";
import { runLoad } from "./load.mjs";
import { benchLoad, formatLoad, loadMissed } from "./load-part.mjs";
import { killWorkerdChildren, workerdCpuMeter } from "./processes.mjs";
import { saveProfiles, startProfiles, summarizeProfiles } from "./profile.mjs";
import { BENCH_PROVIDER_CREDENTIALS, benchWebhooks, formatProviders, webhookMissed } from "./providers.mjs";
import { benchQuery, formatQuery, QUERY_TARGET_P99_MS } from "./query.mjs";
import { formatBytes, formatRatio, formatResults, ratios, summarize, verdict } from "./report.mjs";
import { checkRoutes, prepareRoutes, ROUTES } from "./routes.mjs";
import { benchSharing, formatSharing, SHARING_TARGET_RATIO } from "./sharing.mjs";
import { benchWeb, formatWeb, webMissed } from "./web.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BUNDLE_TARGET_BYTES = 1024 * 1024;
const STACK_TARGET_RATIO = 2;
const AUTHED_TARGET_RATIO = 3;
const INITIAL_WARMUP_MS = 2_000;

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `wrangler needs Node >= 22.12, this is ${process.version}. Run \`npm run bench\`, which uses the project's Node.`,
  );
  process.exit(2);
}

const PARTS = [
  "http",
  "avro",
  "ingest",
  "query",
  "providers",
  "export",
  "ai",
  "sharing",
  "audit",
  "fhir",
  "narratives",
  "load",
  "web",
];

const { values: options } = parseArgs({
  options: {
    only: { type: "string", default: PARTS.join(",") },
    "ingest-rounds": { type: "string", default: "3" },
    "backfill-rounds": { type: "string", default: "1" },
    "web-runs": { type: "string", default: "10" },
    providers: { type: "string", default: "webhooks,backfill" },
    "paced-rate": { type: "string", default: "200" },
    "query-requests": { type: "string", default: "300" },
    "ai-requests": { type: "string", default: "200" },
    "ai-runs": { type: "string", default: "300" },
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    concurrency: { type: "string", default: "16" },
    profile: { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
  },
});
const durationMs = Number(options.duration) * 1000;
const warmupMs = Number(options.warmup) * 1000;
const rounds = Number(options.rounds);
const concurrency = Number(options.concurrency);
const ingestRounds = Number(options["ingest-rounds"]);
const backfillRounds = Number(options["backfill-rounds"]);
const providerHalves = new Set(options.providers.split(",").map((half) => half.trim()));
const queryRequests = Number(options["query-requests"]);
const aiRequests = Number(options["ai-requests"]);
const aiRuns = Number(options["ai-runs"]);
const webRuns = Number(options["web-runs"]);
if (
  ![durationMs, warmupMs, rounds, concurrency, ingestRounds, queryRequests, aiRequests, aiRuns, webRuns].every(
    (n) => Number.isFinite(n) && n > 0,
  ) ||
  concurrency > 256
) {
  console.error(
    "--duration, --warmup, --rounds, --concurrency, --ingest-rounds, --query-requests, --ai-requests, --ai-runs and --web-runs must be positive numbers (concurrency at most 256).",
  );
  process.exit(2);
}
const parts = new Set(options.only.split(",").map((part) => part.trim()));
const unknownParts = [...parts].filter((part) => !PARTS.includes(part));
if (unknownParts.length > 0 || parts.size === 0) {
  console.error(`--only takes a comma-separated list of ${PARTS.join(", ")}; unknown: ${unknownParts.join(", ")}`);
  process.exit(2);
}

// Wrangler's own chatter ("Using secrets defined in .dev.vars") would be misleading: the bench
// builds its bindings itself. Set before wrangler is loaded.
process.env.WRANGLER_LOG ??= "warn";
const { startBenchWorker } = await import("./server.mjs");

const workDir = mkdtempSync(join(tmpdir(), "pulse-bench-"));
let server;
let sandbox;

/** Synchronous, so it also works from an `exit` listener after a signal or a crash. */
function cleanupNow() {
  for (const child of runningBuilds) child.kill("SIGTERM");
  stopAiBridge();
  killWorkerdChildren();
  rmSync(workDir, { recursive: true, force: true });
}
process.on("exit", cleanupNow);
// Miniflare exits on these signals too, without waiting for its own dispose; either way the
// `exit` listener above stops workerd and removes the temporary state.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));
// A hang guard sized from the options: builds and start-up, the middleware rounds, the ingest
// rounds (~3 s each), the query part (~8 s of loading, then two requests a step) and the ai part
// (a user a second to load, four requests a step, ~40 ms an in-process run); the load part runs
// three crowds of at most three minutes each. The providers part
// also waits for the webhook queue to drain between runs and runs the backfill rounds (minutes each).
const watchdogMs =
  2 * 60_000 +
  (parts.has("http") ? ROUTES.length * (rounds * (durationMs + warmupMs) + INITIAL_WARMUP_MS) + 2 * durationMs : 0) +
  (parts.has("ingest") ? (ingestRounds + 2) * 15_000 : 0) +
  (parts.has("query") ? 60_000 + queryRequests * 100 : 0) +
  (parts.has("sharing") ? 60_000 + queryRequests * 200 : 0) +
  (parts.has("providers") ? 5 * (rounds * (durationMs + warmupMs + 30_000) + 2000) + 30_000 + backfillRounds * 6 * 60_000 : 0) +
  (parts.has("export") ? 6 * 60_000 : 0) +
  (parts.has("fhir") || parts.has("narratives") ? 8 * 60_000 : 0) +
  (parts.has("ai") ? 2 * 60_000 + aiRequests * 500 + aiRuns * 100 : 0) +
  (parts.has("audit") ? 5 * 60_000 : 0) +
  (parts.has("load") ? 10 * 60_000 : 0) +
  (parts.has("web") ? 2 * 60_000 + webRuns * 3 * 5_000 : 0);
const watchdog = setTimeout(() => {
  console.error(`bench did not finish within ${Math.round(watchdogMs / 1000)} s; stopping.`);
  process.exit(1);
}, watchdogMs);
watchdog.unref();

const step = (text) => console.log(`· ${text}`);

function assertNoWorkerErrors() {
  const { errors } = server.logs;
  if (errors.length > 0) throw new Error(`the worker logged errors, figures discarded:\n${errors.join("\n")}`);
}

const resultsDir = join(root, "bench", "results");
const runStamp = new Date().toISOString().replace(/[:.]/g, "-");
// Miniflare names the bench Worker's isolate after the worker (bench/server.mjs); the others are
// its local D1, R2 and queue simulators.
const WORKER_ISOLATE = "core:user:pulse-bench";
const PROFILED_ISOLATES = [WORKER_ISOLATE, "d1:", "r2:", "queues:"];

/** Runs `run` under the CPU profiler of every isolate; returns the printable summary. */
function profilerFor(bundlePath, cpuMeter) {
  return async (label, run) => {
    const session = await startProfiles(server.inspectorUrl, PROFILED_ISOLATES);
    const cpuBefore = cpuMeter?.();
    let profiles;
    try {
      await run();
    } finally {
      profiles = await session.stop();
    }
    const processCpuMs = cpuBefore === undefined ? undefined : cpuMeter() - cpuBefore;
    mkdirSync(resultsDir, { recursive: true });
    const saved = saveProfiles(profiles, join(resultsDir, `${runStamp}-${label}`));
    const summary = summarizeProfiles(profiles, { focus: WORKER_ISOLATE, bundlePath, processCpuMs });
    return {
      summary: `${summary}\nprofiles saved: ${saved.length} files ${join(resultsDir, `${runStamp}-${label}-*.cpuprofile`)}`,
    };
  };
}

async function runHttp(cpuMeter, appFiles, profile) {
  const size = { ...bundleSize(join(workDir, "app"), appFiles), largest: bundleComposition(join(workDir, "app")) };
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
  const { stack, authed } = compared;
  const lines = [
    `one workerd, loopback, ${concurrency} requests in flight, ${rounds} rounds x ${durationMs / 1000} s per route\n`,
    formatResults(results),
    "",
    ...results.slice(1).map((route) => formatRatio(route, compared[route.key])),
    `target (b) <= ${STACK_TARGET_RATIO}x (a): throughput ${verdict(stack.cost <= STACK_TARGET_RATIO)}, ` +
      `workerd CPU ${verdict(stack.cpu <= STACK_TARGET_RATIO)}`,
    `target (d) <= ${AUTHED_TARGET_RATIO}x (a): throughput ${verdict(authed.cost <= AUTHED_TARGET_RATIO)}, ` +
      `workerd CPU ${verdict(authed.cpu <= AUTHED_TARGET_RATIO)}`,
    `bundle (src/index.ts): ${formatBytes(size.gzip)} gzipped (${formatBytes(size.raw)} raw, ${size.files.join(", ")})` +
      `  target < ${formatBytes(BUNDLE_TARGET_BYTES)}: ${verdict(size.gzip < BUNDLE_TARGET_BYTES)}`,
    `largest parts (raw): ${size.largest.map(({ name, bytes }) => `${name} ${formatBytes(bytes)}`).join(", ")}`,
  ];
  if (profile) {
    // One more run of the routes whose cost is in question, under the profiler (read for shares).
    for (const route of ROUTES.filter(({ key }) => key === "stack" || key === "authed")) {
      step(`profiling ${route.id} ${route.label} (${durationMs / 1000} s)`);
      const url = new URL(route.path, server.url).href;
      const { summary } = await profile(`http-${route.key}`, () =>
        runLoad({ url, headers: route.headers, concurrency, warmupMs: 1, durationMs }),
      );
      lines.push("", `${route.id} ${route.label} under the profiler:`, summary);
    }
  }
  const missed =
    !(stack.cost <= STACK_TARGET_RATIO && stack.cpu <= STACK_TARGET_RATIO) ||
    !(authed.cost <= AUTHED_TARGET_RATIO && authed.cpu <= AUTHED_TARGET_RATIO) ||
    size.gzip >= BUNDLE_TARGET_BYTES;
  const record = {
    concurrency,
    rounds,
    durationMs,
    routes: results.map(({ key, path, summary }) => ({ key, path, ...summary })),
    ratios: compared,
    bundle: size,
  };
  return { text: lines.join("\n"), record, missed };
}

async function main() {
  const report = [];
  const record = {};
  let missed = false;

  // Pure Node and sensitive to a busy neighbour: before wrangler builds and workerd start.
  if (parts.has("avro")) {
    step("avro: decoding a 7-day heart-rate file with the Worker's reader and with avsc (null and deflate codecs)");
    const avro = await benchAvroDecode();
    report.push(formatAvroDecode(avro));
    record.avro = avro;
    missed ||= Object.values(avro).some((r) => r.ratio < AVRO_DECODE_TARGET);
  }
  let aiInProcess;
  if (parts.has("ai")) {
    aiInProcess = await benchAiInProcess({ workDir, runs: aiRuns, step });
    // The question set's targets: no wrong answer, at least 90 % of the in-scope questions answered.
    const { wrong, answered, inScope } = aiInProcess.questions;
    missed ||= wrong > 0 || answered < 0.9 * inScope;
  }

  let benchModule;
  const needsWorker = ["http", "ingest", "query", "providers", "sharing", "audit", "load", "web"].some((part) => parts.has(part));
  if (needsWorker) {
    const bundling = parts.has("http") ? "src/index.ts (deploy bundle) and bench/worker.ts" : "bench/worker.ts";
    step(`bundling ${bundling} with wrangler deploy --dry-run`);
    const [appFiles, benchFiles] = await Promise.all([
      parts.has("http") ? buildWorker({ root, outDir: join(workDir, "app") }) : null,
      buildWorker({ root, outDir: join(workDir, "bench"), entry: "bench/worker.ts" }),
    ]);
    benchModule = join(workDir, "bench", benchFiles[0]);

    // The Worker serves the web app from dist/web (the ASSETS binding): built as a deploy builds it.
    if (parts.has("web")) {
      step("web: building the web app (npm run build:web)");
      execFileSync(process.execPath, [join(root, "scripts/build-web.mjs")], { cwd: root, stdio: "inherit" });
    }
    // The sandbox provider in this process, as `npm run dev` starts it, for the backfill half.
    if (parts.has("providers") && providerHalves.has("backfill")) sandbox = await startBenchSandbox();
    step("starting workerd (Miniflare) on 127.0.0.1 with local D1, R2, Queues and Durable Objects");
    server = await startBenchWorker({
      root,
      bundleDir: join(workDir, "bench"),
      modulePath: join(workDir, "bench", benchFiles[0]),
      persistDir: join(workDir, "state"),
      inspector: options.profile,
      // The providers part: an Oura app made up for the bench (webhook secrets) and the sandbox.
      overrides: {
        PROVIDER_CREDENTIALS: JSON.stringify({ ...BENCH_PROVIDER_CREDENTIALS, sandbox: BENCH_SANDBOX_CREDENTIALS }),
        ...(sandbox ? { ENABLE_SANDBOX_PROVIDER: "true", SANDBOX_PROVIDER_ORIGIN: sandbox.origin } : {}),
      },
      // The stack run sends thousands of requests a minute from one address; at the default 600/min
      // the per-IP limit would answer 429. Each load request therefore carries its own client address
      // (bench/routes.mjs), so the limiter does its full work on every request without refusing.
    });
    const cpuMeter = workerdCpuMeter();
    if (cpuMeter === undefined) step("workerd CPU cannot be read here (no /proc): CPU columns show n/a");
    const profile = options.profile ? profilerFor(join(workDir, "bench", benchFiles[0]), cpuMeter) : undefined;

    if (parts.has("http")) {
      const http = await runHttp(cpuMeter, appFiles, profile);
      report.push(http.text);
      record.http = http.record;
      missed ||= http.missed;
    }
    if (parts.has("ingest")) {
      const ingest = await benchIngest({ baseUrl: server.url, workDir, rounds: ingestRounds, cpuMeter, profile, step });
      assertNoWorkerErrors();
      report.push(formatIngest(ingest));
      record.ingest = ingest;
      missed ||= ingest.ratio > INGEST_TARGET_RATIO;
    }
    if (parts.has("query")) {
      const { latencies: _latencies, ...query } = await benchQuery({
        baseUrl: server.url,
        workDir,
        requests: queryRequests,
        cpuMeter,
        profile,
        step,
      });
      assertNoWorkerErrors();
      report.push(formatQuery(query));
      record.query = query;
      missed ||= !(query.http.p99 < QUERY_TARGET_P99_MS);
    }
    if (parts.has("sharing")) {
      const sharing = await benchSharing({ baseUrl: server.url, requests: queryRequests, cpuMeter, profile, step });
      assertNoWorkerErrors();
      report.push(formatSharing(sharing));
      record.sharing = sharing;
      missed ||= !(sharing.ratio <= SHARING_TARGET_RATIO);
    }
    if (parts.has("providers")) {
      record.providers = {};
      if (providerHalves.has("webhooks")) {
        const webhooks = await benchWebhooks({
          baseUrl: server.url,
          rounds,
          durationMs,
          warmupMs,
          pacedRate: Number(options["paced-rate"]),
          cpuMeter,
          profile,
          step,
        });
        // The webhook queue's consumer logs at info for each dropped event; errors would void the figures.
        await delay(250);
        assertNoWorkerErrors();
        report.push(formatProviders(webhooks));
        record.providers = webhooks;
        missed ||= webhookMissed(webhooks);
      }
      if (providerHalves.has("backfill")) {
        const backfill = await benchBackfill({ baseUrl: server.url, rounds: backfillRounds, step });
        assertNoWorkerErrors();
        report.push(formatBackfill(backfill));
        record.providers.backfill = backfill;
        missed ||= backfillMissed(backfill);
      }
    }
    if (parts.has("audit")) {
      const audit = await benchAudit({ baseUrl: server.url, rounds, step });
      assertNoWorkerErrors();
      report.push(formatAudit(audit));
      record.audit = audit;
      missed ||= audit.ratioToLive > AUDIT_TARGET_RATIO;
    }
    if (parts.has("load")) {
      const load = await benchLoad({ baseUrl: server.url, cpuMeter, step });
      assertNoWorkerErrors();
      report.push(formatLoad(load));
      record.load = load;
      missed ||= loadMissed(load);
    }
    if (parts.has("web")) {
      const web = await benchWeb({ baseUrl: server.url, runs: webRuns, step });
      assertNoWorkerErrors();
      report.push(formatWeb(web));
      record.web = web;
      missed ||= webMissed(web);
    }
  }
  if (parts.has("ai")) {
    if (benchModule === undefined) {
      step("bundling bench/worker.ts with wrangler deploy --dry-run");
      const [file] = await buildWorker({ root, outDir: join(workDir, "bench"), entry: "bench/worker.ts" });
      benchModule = join(workDir, "bench", file);
    }
    // Its own workerd instances: their ENCLAVE_* bindings point at the bridge this part starts.
    const startWorker = (name, overrides) =>
      startBenchWorker({
        root,
        bundleDir: join(workDir, "bench"),
        modulePath: benchModule,
        persistDir: join(workDir, name),
        overrides,
      });
    const http = await benchAiHttp({ workDir, startWorker, requests: aiRequests, step });
    report.push(formatAi({ inProcess: aiInProcess, http }));
    record.ai = { inProcess: aiInProcess, http };
  }
  if (parts.has("export")) {
    if (benchModule === undefined) {
      step("bundling bench/worker.ts with wrangler deploy --dry-run");
      const [file] = await buildWorker({ root, outDir: join(workDir, "bench"), entry: "bench/worker.ts" });
      benchModule = join(workDir, "bench", file);
    }
    // A workerd of its own, with the isolates' heap capped (./export.mjs).
    const startWorker = (name) =>
      startBenchWorker({ root, bundleDir: join(workDir, "bench"), modulePath: benchModule, persistDir: join(workDir, name) });
    const exported = await benchExport({ startWorker, step });
    report.push(formatExport(exported));
    record.export = exported;
    missed ||= exportMissed(exported);
  }

  if (parts.has("fhir") || parts.has("narratives")) {
    if (benchModule === undefined) {
      step("bundling bench/worker.ts with wrangler deploy --dry-run");
      const [file] = await buildWorker({ root, outDir: join(workDir, "bench"), entry: "bench/worker.ts" });
      benchModule = join(workDir, "bench", file);
    }
    // A workerd of its own with the isolates' heap capped, as the export part (./fhir.mjs).
    const startWorker = (name) =>
      startBenchWorker({ root, bundleDir: join(workDir, "bench"), modulePath: benchModule, persistDir: join(workDir, name) });
    const fhir = await benchFhir({ startWorker, parts, step });
    report.push(formatFhir(fhir));
    record.fhir = fhir;
    missed ||= fhirMissed(fhir);
  }

  console.log(
    `\nPulse bench, ${new Date().toISOString()}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "unknown"}), Node ${process.version}`,
  );
  console.log(report.join("\n\n"));
  if (server) console.log(`worker log lines during the run: ${server.logs.count}`);

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${runStamp}.json`);
  const header = { date: new Date().toISOString(), cpus: cpus().length, node: process.version, parts: [...parts] };
  writeFileSync(file, `${JSON.stringify({ ...header, ...record }, null, 2)}\n`);
  console.log(`results saved to ${file}`);
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
  await sandbox?.close().catch(() => {});
}
process.exit(exitCode);
