// Question (c) of docs/benchmarks.md: latency of a 30-day hourly heart-rate query over HTTP against
// the same aggregate computed by a plain SQL scan in process, both over the same rows.
//
// Data: 30 days of heart rate, a sample every 6 s in 10-minute records (4,320 records, 432,000
// samples): what a watch recording continuously writes, and the density bench (b) uses, so the
// in-process scan reads every sample a real month holds. It is ingested through the real path
// (upload → queue → HealthStore) for a fresh user; the reference database gets the same rows.
//
// workerd: `GET /v1/observations?metrics=heart_rate&resolution=hour&since=…&until=…` (720 buckets
// of avg/min/max/count), one request at a time on a keep-alive connection, after a warm-up; the
// first answer is checked bucket by bucket against the reference. Reference: `SELECT … GROUP BY
// hour` over the sample rows in node:sqlite, using the (metric, start) index.
import { join } from "node:path";
import { apiClient, check, signIn, waitForUploads } from "./api.mjs";
import { EXPORT_START, heartRateExport } from "./export-files.mjs";
import { latencySummary } from "./report.mjs";
import { hourlyAggregate, openReferenceDb, referenceIngest } from "./sqlite-reference.mjs";

export const QUERY_TARGET_P99_MS = 25;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DAYS = 30;
const SAMPLE_SECONDS = 6;

/** The HTTP answer must hold exactly the reference's buckets. */
function compareBuckets(body, reference) {
  const { items } = JSON.parse(body);
  check(
    items.length === reference.length,
    `read API answered ${items.length} hourly buckets, the reference has ${reference.length}`,
  );
  items.forEach((bucket, i) => {
    const want = reference[i];
    const hour = Date.parse(bucket.start) / HOUR_MS;
    const same =
      bucket.metric === "heart_rate" &&
      hour === Number(want.hour) &&
      bucket.count === Number(want.count) &&
      bucket.min === want.min &&
      bucket.max === want.max &&
      Math.abs(bucket.avg - want.avg) <= 1e-9 * Math.abs(want.avg);
    check(same, `bucket ${i} differs: read API ${JSON.stringify(bucket)}, reference ${JSON.stringify(want)}`);
  });
}

/**
 * Beside the query, the same client times `GET /v1/__bench/authed` (bench/worker.ts: `requireAuth()`
 * and an empty answer), interleaved request by request: the floor every authenticated read pays
 * (HTTP, middleware, ES256 verify, the session read in D1), so the query's own cost shows.
 */
const FLOOR_PATH = "/v1/__bench/authed";

const CPU_REQUESTS = 100;

export async function benchQuery({
  baseUrl,
  workDir,
  requests = 300,
  warmup = 30,
  referenceRuns = 30,
  cpuMeter,
  profile,
  step = () => {},
}) {
  const since = EXPORT_START;
  const until = EXPORT_START + DAYS * DAY_MS;
  const file = await heartRateExport({ days: DAYS, sampleSeconds: SAMPLE_SECONDS });

  step(
    `query: ingesting ${DAYS} days of heart rate (${file.records} records, ${(file.bytes.length / 1e6).toFixed(1)} MB) into node:sqlite`,
  );
  const db = openReferenceDb(join(workDir, "query-reference.sqlite"));
  try {
    // Only the figures are kept: holding 432,000 mapped rows would leave the client's heap large
    // enough for its own garbage collection pauses to show in the latencies being measured.
    const { written, totalMs: referenceLoadMs } = await referenceIngest(db, [file]);
    const samples = written.observations;

    step(`query: ingesting the same file through workerd (upload → queue → HealthStore)`);
    const api = apiClient(baseUrl, await signIn(baseUrl));
    try {
      const started = performance.now();
      const receipt = await api.upload(file);
      const done = await waitForUploads(api, [receipt.uploadId], { intervalMs: 100, timeoutMs: 180_000 });
      const ingestMs = (done.get(receipt.uploadId)?.at ?? Number.NaN) - started;
      const counts = done.get(receipt.uploadId)?.upload.counts;
      check(counts?.accepted === samples, `upload accepted ${counts?.accepted} samples, expected ${samples}`);

      const reference = hourlyAggregate(db, { metric: "heart_rate", since, until });
      const params = new URLSearchParams({
        metrics: "heart_rate",
        resolution: "hour",
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
      });
      const path = `/v1/observations?${params}`;
      compareBuckets((await api.timedGet(path)).body, reference);

      step(
        `query: ${warmup} warm-up + ${requests} timed requests, one at a time, each followed by the floor route; ${referenceRuns} in-process scans`,
      );
      for (let i = 0; i < warmup; i++) {
        await api.timedGet(path);
        await api.timedGet(FLOOR_PATH);
      }
      const http = [];
      const floor = [];
      for (let i = 0; i < requests; i++) {
        http.push((await api.timedGet(path)).ms);
        floor.push((await api.timedGet(FLOOR_PATH)).ms);
      }
      // workerd CPU per request, apart: less sensitive than latency to neighbours on shared cores.
      const cpuPerRequest = async (target) => {
        if (cpuMeter === undefined) return Number.NaN;
        const before = cpuMeter();
        for (let i = 0; i < CPU_REQUESTS; i++) await api.timedGet(target);
        return (cpuMeter() - before) / CPU_REQUESTS;
      };
      const cpu = { query: await cpuPerRequest(path), floor: await cpuPerRequest(FLOOR_PATH) };
      let profiled;
      if (profile) {
        step("query: 100 more requests under the CPU profiler (not measured)");
        profiled = await profile("query", async () => {
          for (let i = 0; i < 100; i++) await api.timedGet(path);
        });
      }

      for (let i = 0; i < 3; i++) hourlyAggregate(db, { metric: "heart_rate", since, until });
      const scans = [];
      for (let i = 0; i < referenceRuns; i++) {
        const t = performance.now();
        hourlyAggregate(db, { metric: "heart_rate", since, until });
        scans.push(performance.now() - t);
      }
      return {
        samples,
        records: file.records,
        bytes: file.bytes.length,
        buckets: reference.length,
        ingest: { workerdMs: ingestMs, referenceMs: referenceLoadMs },
        http: latencySummary(http),
        floor: latencySummary(floor),
        cpu,
        reference: latencySummary(scans),
        latencies: http,
        profile: profiled?.summary,
      };
    } finally {
      api.close();
    }
  } finally {
    db.close();
  }
}

export function formatQuery(r) {
  const row = (label, s) =>
    `  ${label.padEnd(44)} p50 ${s.p50.toFixed(2).padStart(7)} ms  p90 ${s.p90.toFixed(2).padStart(7)} ms  ` +
    `p99 ${s.p99.toFixed(2).padStart(7)} ms  max ${s.max.toFixed(2).padStart(7)} ms  (${s.count} runs)`;
  return [
    `Query (30-day hourly heart rate: ${r.buckets} buckets over ${r.samples.toLocaleString("en")} samples in ${r.records} records)`,
    row("GET /v1/observations over HTTP (workerd)", r.http),
    row("floor: authenticated empty route (workerd)", r.floor),
    row("plain SQL scan, node:sqlite in process", r.reference),
    `  p99 ${r.http.p99.toFixed(2)} ms (${r.http.p99 < QUERY_TARGET_P99_MS ? "meets" : "MISSES"} the < ${QUERY_TARGET_P99_MS} ms target); ` +
      `p50 ${(r.http.p50 / r.reference.p50).toFixed(2)}x the in-process scan`,
    `  workerd CPU per request (${CPU_REQUESTS} of each, apart): query ${r.cpu.query.toFixed(2)} ms, floor ${r.cpu.floor.toFixed(2)} ms`,
    `  loading the data: ${(r.ingest.workerdMs / 1000).toFixed(1)} s through workerd (upload to completed), ` +
      `${(r.ingest.referenceMs / 1000).toFixed(1)} s into node:sqlite`,
    ...(r.profile ? [`  CPU profile of 100 more queries:\n${r.profile.replace(/^/gm, "    ")}`] : []),
  ].join("\n");
}
