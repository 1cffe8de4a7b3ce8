// The export part of the bench (docs/benchmarks.md "Export"): one person's year of data, exported.
//
// Data: a year seeded into one user's HealthStore (bench/export-year.ts): heart rate every minute
// (525,600 samples in 10-minute records), steps hourly, resting heart rate, HRV and weight daily,
// a night of sleep with stages and a workout every other day.
//
// Measured: `POST /v1/me/exports` → the real SYNC queue → the export.build job → completed, then
// the download through its signed link, checked (the archive is unzipped here and every file's
// count compared with the manifest and the seeded year). Memory, two ways: the export runs in a
// workerd of its own whose isolates' V8 heap is capped below 64 MiB (see V8_FLAGS), so finishing
// is the proof; and that process's resident set (VmRSS of /proc, sampled every 10 ms) during the
// export, its peak minus the same process's resident set just before. The Worker, the HealthStore,
// SQLite's pages of the store and the local R2 all live in that one process, so RSS growth is an
// upper bound, compared with a reference in the same run and process: the same pages read
// through the same RPC and discarded (`/__bench/export/read-all`), no archive built.
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { unzipSync } from "fflate";
import { BenchApiError, signIn } from "./api.mjs";
import { workerdChildren } from "./processes.mjs";
import { formatBytes } from "./report.mjs";

export const EXPORT_MEMORY_TARGET_BYTES = 64 * 1024 * 1024;
const YEAR_HEART_RATE = 525_600;

function rssBytes(pids) {
  let total = 0;
  for (const pid of pids) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    total += match ? Number(match[1]) * 1024 : 0;
  }
  return total;
}

/** Samples workerd's resident set until stopped: the baseline before, and the peak while running. */
export function rssSampler(pids) {
  if (pids.length === 0) return undefined;
  const baseline = rssBytes(pids);
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pids));
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssBytes(pids));
      return { baseline, peak, growth: peak - baseline };
    },
  };
}

async function call(baseUrl, token, method, path) {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": "10.78.0.1" },
  });
  if (!res.ok) throw new BenchApiError(`${method} ${path} answered ${res.status}: ${(await res.text()).slice(0, 400)}`);
  return res.json();
}

/**
 * The V8 heap of every isolate of the export's workerd is capped at 64 MiB: old space 60 MiB, and
 * semi-spaces of 1 MiB (the young generation takes at most three of them). A local workerd has no
 * memory limit of its own and V8 collects lazily, so a heap sampled without a cap shows garbage
 * not yet collected rather than what the export needs; under the cap an export that needed more
 * would fail (V8 aborts the isolate), so completing is the proof the target is met.
 */
export const V8_FLAGS = "--max-old-space-size=60 --max-semi-space-size=1";

export async function benchExport({ startWorker, step = () => {} }) {
  step(`export: starting a workerd of its own, V8 flags ${V8_FLAGS}`);
  const before = new Set(workerdChildren());
  const previousFlags = process.env.MINIFLARE_WORKERD_V8_FLAGS;
  process.env.MINIFLARE_WORKERD_V8_FLAGS = V8_FLAGS;
  let server;
  try {
    server = await startWorker("export");
  } finally {
    if (previousFlags === undefined) delete process.env.MINIFLARE_WORKERD_V8_FLAGS;
    else process.env.MINIFLARE_WORKERD_V8_FLAGS = previousFlags;
  }
  try {
    const pids = workerdChildren().filter((pid) => !before.has(pid));
    const result = await runExport(server.url, pids, step);
    if (server.logs.errors.length > 0) throw new BenchApiError(`the worker logged errors:\n${server.logs.errors.join("\n")}`);
    return { ...result, v8Flags: V8_FLAGS };
  } finally {
    await server.dispose().catch(() => {});
  }
}

async function runExport(baseUrl, pids, step) {
  const token = await signIn(baseUrl);
  step("export: seeding a year into one store (12 months through the HealthStore RPC)");
  const seedStarted = performance.now();
  let observations = 0;
  for (let month = 0; month < 12; month += 1) {
    observations += (await call(baseUrl, token, "POST", `/__bench/export/seed?month=${month}`)).observations;
  }
  const seedMs = performance.now() - seedStarted;
  // Let the seeding's garbage settle before the baselines.
  await delay(2_000);

  step("export: POST /v1/me/exports, the queue job, polling until completed");
  const exportMemory = rssSampler(pids);
  const started = performance.now();
  const receipt = await call(baseUrl, token, "POST", "/v1/me/exports");
  let view;
  do {
    await delay(100);
    view = await call(baseUrl, token, "GET", receipt.statusUrl);
  } while (view.status === "queued" || view.status === "running");
  const exportMs = performance.now() - started;
  const exportRss = exportMemory?.stop();
  if (view.status !== "completed") throw new BenchApiError(`the export ended ${view.status}: ${view.error}`);

  step("export: downloading through the signed link and checking the archive");
  const downloadStarted = performance.now();
  const res = await fetch(view.downloadUrl, { headers: { "CF-Connecting-IP": "10.78.0.2" } });
  if (res.status !== 200) throw new BenchApiError(`download answered ${res.status}`);
  const zip = new Uint8Array(await res.arrayBuffer());
  const downloadMs = performance.now() - downloadStarted;
  const files = unzipSync(zip);
  const manifest = JSON.parse(new TextDecoder().decode(files["manifest.json"]));
  const heartRate = manifest.files.find((file) => file.path === "observations/heart_rate.ndjson");
  if (heartRate?.count !== YEAR_HEART_RATE) throw new BenchApiError(`heart_rate.ndjson holds ${heartRate?.count} samples`);
  const observationRows = manifest.files
    .filter((file) => file.path.startsWith("observations/"))
    .reduce((sum, file) => sum + file.count, 0);
  if (observationRows !== observations)
    throw new BenchApiError(`archive has ${observationRows} observations, seeded ${observations}`);
  const uncompressed = manifest.files.reduce((sum, file) => sum + file.bytes, 0);

  await delay(2_000);
  step("export: the reference, the same pages read and discarded");
  const referenceMemory = rssSampler(pids);
  const referenceStarted = performance.now();
  const reference = await call(baseUrl, token, "POST", "/__bench/export/read-all");
  const referenceMs = performance.now() - referenceStarted;
  const referenceRss = referenceMemory?.stop();

  return {
    observations,
    seedMs,
    exportMs,
    downloadMs,
    archiveBytes: zip.byteLength,
    uncompressedBytes: uncompressed,
    files: manifest.files.length,
    exportRss,
    reference: { ms: referenceMs, rows: reference.rows, bytes: reference.bytes, rss: referenceRss },
  };
}

/** Missed when the export failed under the heap cap (benchExport throws) or was not measured at all. */
export function exportMissed(result) {
  return result.exportRss === undefined;
}

export function formatExport(result) {
  const rss = (m) => (m === undefined ? "n/a (no /proc)" : `+${formatBytes(m.growth)} (baseline ${formatBytes(m.baseline)})`);
  const growthRatio =
    result.exportRss && result.reference.rss && result.reference.rss.growth > 0
      ? `${(result.exportRss.growth / result.reference.rss.growth).toFixed(2)}x`
      : "n/a";
  return [
    `export: a year in one store, ${result.observations.toLocaleString("en")} observations (525,600 heart-rate samples), ` +
      `seeded in ${(result.seedMs / 1000).toFixed(1)} s`,
    `  export job, request to completed: ${(result.exportMs / 1000).toFixed(1)} s; archive ${formatBytes(result.archiveBytes)} ` +
      `(${formatBytes(result.uncompressedBytes)} in ${result.files} files); download ${(result.downloadMs / 1000).toFixed(1)} s`,
    `  workerd peak RSS growth during the export: ${rss(result.exportRss)}`,
    `  reference, the same pages read and discarded: ${(result.reference.ms / 1000).toFixed(1)} s, ` +
      `peak RSS growth ${rss(result.reference.rss)}; ` +
      `export/reference RSS growth ${growthRatio}, ` +
      `time ${(result.exportMs / result.reference.ms).toFixed(2)}x`,
    `  target: peak isolate memory < ${formatBytes(EXPORT_MEMORY_TARGET_BYTES)}: meets target ` +
      `(completed with every isolate's V8 heap capped: ${result.v8Flags})`,
  ].join("\n");
}
