// Question (b) of docs/benchmarks.md: end-to-end ingest of a generated 7-day Health Connect export in local workerd
// against the in-process limit measured in the same run.
//
// workerd: a fresh signed-in user sends the four files one after another (`POST /v1/uploads`, raw
// body, as scripts/upload.mjs does), then polls `GET /v1/uploads` until every upload is completed,
// then reads the data back through the read API (hourly buckets of every metric, the sleep list)
// and checks every count. The clock runs from the first byte posted to that last answer: the
// upload route (R2 write, D1 row, audit), queue delivery, the ingest job (R2 read, decode, map,
// HealthStore writes, D1 progress, lake parts) and the reads.
//
// Reference: the same files decoded (avsc), mapped (Pulse's mapping) and inserted into a
// file-backed node:sqlite database in one transaction, in the same process (./sqlite-reference.mjs).
import { join } from "node:path";
import { apiClient, BenchApiError, signIn, waitForUploads } from "./api.mjs";
import { EXPORT_START, weekExport } from "./export-files.mjs";
import { openReferenceDb, referenceIngest } from "./sqlite-reference.mjs";

export const INGEST_TARGET_RATIO = 5;
const DAY_MS = 86_400_000;
const BUCKET_METRICS = ["heart_rate", "steps", "blood_glucose"];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

function check(condition, message) {
  if (!condition) throw new BenchApiError(message);
}

/** What each file must yield, from Pulse's own mapping of it (the reference's first pass). */
function expectations(files, mappedFiles) {
  const perFile = new Map();
  const unflagged = Object.fromEntries(BUCKET_METRICS.map((metric) => [metric, 0]));
  let stepsTotal = 0;
  let sleepSessions = 0;
  let stages = 0;
  files.forEach((file, i) => {
    const mapped = mappedFiles[i];
    const items = [...mapped.observations, ...mapped.sleepSessions, ...mapped.workouts];
    perFile.set(file.name, {
      accepted: items.length,
      flagged: items.filter((item) => item.flagged).length,
      rejected: mapped.rejected.length,
    });
    for (const obs of mapped.observations) {
      if (obs.flagged || !(obs.metric in unflagged)) continue;
      unflagged[obs.metric] += 1;
      if (obs.metric === "steps") stepsTotal += obs.value;
    }
    sleepSessions += mapped.sleepSessions.length;
    for (const session of mapped.sleepSessions) stages += session.stages.length;
  });
  return { perFile, unflagged, stepsTotal, sleepSessions, stages };
}

async function confirmReadable(api, expected) {
  const since = new Date(EXPORT_START).toISOString();
  const buckets = await api.observations({
    metrics: BUCKET_METRICS.join(","),
    resolution: "hour",
    since,
    until: new Date(EXPORT_START + 7 * DAY_MS).toISOString(),
  });
  for (const metric of BUCKET_METRICS) {
    const count = buckets.filter((b) => b.metric === metric).reduce((sum, b) => sum + b.count, 0);
    check(
      count === expected.unflagged[metric],
      `read API: ${count} ${metric} samples in hourly buckets, expected ${expected.unflagged[metric]}`,
    );
  }
  const steps = buckets.filter((b) => b.metric === "steps").reduce((sum, b) => sum + (b.sum ?? 0), 0);
  check(steps === expected.stepsTotal, `read API: ${steps} steps in total, expected ${expected.stepsTotal}`);
  const nights = await api.sleep({ since, until: new Date(EXPORT_START + 8 * DAY_MS).toISOString() });
  const stages = nights.reduce((sum, night) => sum + night.stages.length, 0);
  check(
    nights.length === expected.sleepSessions && stages === expected.stages,
    `read API: ${nights.length} nights with ${stages} stages, expected ${expected.sleepSessions} with ${expected.stages}`,
  );
}

/** One end-to-end ingest through workerd for a fresh user; times in ms from the first byte posted. */
async function ingestThroughWorker(baseUrl, files, expected, cpuMeter) {
  const api = apiClient(baseUrl, await signIn(baseUrl));
  try {
    const cpuBefore = cpuMeter?.();
    const started = performance.now();
    const receipts = [];
    const perFile = [];
    for (const file of files) {
      const sent = performance.now();
      const receipt = await api.upload(file);
      perFile.push({ type: file.type, postMs: performance.now() - sent });
      check(
        receipt.recordCount === file.records,
        `${file.name}: receipt counts ${receipt.recordCount} records, the file has ${file.records}`,
      );
      receipts.push(receipt);
    }
    const posted = performance.now();
    const done = await waitForUploads(
      api,
      receipts.map((r) => r.uploadId),
    );
    const completed = Math.max(...[...done.values()].map((d) => d.at));
    for (const [i, receipt] of receipts.entries()) {
      const { upload, at } = done.get(receipt.uploadId);
      // Server clock (D1 row): `createdAt` is taken as the upload starts being received.
      perFile[i].jobMs = Date.parse(upload.completedAt) - Date.parse(upload.createdAt);
      perFile[i].seenCompletedMs = at - started;
      const want = expected.perFile.get(files[i].name);
      const got = upload.counts;
      check(
        got.accepted === want.accepted && got.duplicate === 0 && got.flagged === want.flagged && got.rejected === want.rejected,
        `${files[i].name}: upload counts ${JSON.stringify(got)}, expected ${JSON.stringify({ ...want, duplicate: 0 })}`,
      );
    }
    await confirmReadable(api, expected);
    const end = performance.now();
    return {
      totalMs: end - started,
      postMs: posted - started,
      ingestMs: completed - posted,
      confirmMs: end - completed,
      workerdCpuMs: cpuBefore === undefined ? Number.NaN : cpuMeter() - cpuBefore,
      perFile,
    };
  } finally {
    api.close();
  }
}

/**
 * Runs `rounds` of both sides, alternating which goes first, after a warm-up of each (JIT, the
 * first Durable Object, SQLite caches), and returns the medians. Throws when an upload fails or
 * any count differs. With `profile` (./profile.mjs through run.mjs), one more workerd round runs
 * under the CPU profiler, apart from the measured ones.
 */
export async function benchIngest({ baseUrl, workDir, rounds = 3, cpuMeter, profile, step = () => {} }) {
  const files = await weekExport();
  const samples = { worker: [], reference: [] };
  let expected;
  const runReference = async (round) => {
    const db = openReferenceDb(join(workDir, `ingest-reference-${round}.sqlite`));
    try {
      const result = await referenceIngest(db, files);
      expected ??= expectations(files, result.mapped);
      const rows = result.written.observations + result.written.sleepSessions;
      const want = [...expected.perFile.values()].reduce((sum, f) => sum + f.accepted, 0);
      check(rows === want, `reference wrote ${rows} observations and sessions, expected ${want}`);
      const { mapped: _mapped, ...figures } = result;
      samples.reference.push(figures);
    } finally {
      db.close();
    }
  };
  step("ingest: warm-up round (not measured)");
  await runReference("warmup");
  samples.reference.length = 0;
  await ingestThroughWorker(baseUrl, files, expected, cpuMeter);
  for (let round = 1; round <= rounds; round++) {
    step(`ingest round ${round}/${rounds}: 7-day export through workerd and into node:sqlite`);
    const order = round % 2 === 1 ? ["worker", "reference"] : ["reference", "worker"];
    for (const side of order) {
      if (side === "reference") await runReference(round);
      else samples.worker.push(await ingestThroughWorker(baseUrl, files, expected, cpuMeter));
    }
  }
  let profiled;
  if (profile) {
    step("ingest: one more round under the CPU profiler (not measured)");
    profiled = await profile("ingest", () => ingestThroughWorker(baseUrl, files, expected, cpuMeter));
  }
  const pick = (list, key) => median(list.map((s) => s[key]));
  const worker = Object.fromEntries(
    ["totalMs", "postMs", "ingestMs", "confirmMs", "workerdCpuMs"].map((k) => [k, pick(samples.worker, k)]),
  );
  const reference = Object.fromEntries(["totalMs", "decodeMs", "mapMs", "insertMs"].map((k) => [k, pick(samples.reference, k)]));
  return {
    files: files.map(({ name, bytes, records }) => ({ name, bytes: bytes.length, records })),
    rows: expected.unflagged,
    sleep: { sessions: expected.sleepSessions, stages: expected.stages },
    samples,
    worker,
    reference,
    ratio: worker.totalMs / reference.totalMs,
    profile: profiled?.summary,
  };
}

export function formatIngest(r) {
  const ms = (v) => `${Number.isFinite(v) ? v.toFixed(0) : "n/a"} ms`;
  const samples = Object.values(r.rows).reduce((a, b) => a + b, 0);
  const perFile = (key) =>
    r.samples.worker
      .at(-1)
      ?.perFile.map((f) => `${f.type} ${ms(f[key])}`)
      .join(", ");
  const lines = [
    `Ingest (7-day export, ${r.files.length} files, ${(r.files.reduce((s, f) => s + f.bytes, 0) / 1e6).toFixed(2)} MB deflate: ` +
      `${samples.toLocaleString("en")} samples, ${r.sleep.sessions} nights with ${r.sleep.stages} stages), median of ${r.samples.worker.length}`,
    `  workerd, first byte posted -> all queryable  ${ms(r.worker.totalMs).padStart(9)}   ` +
      `(last 202 at ${ms(r.worker.postMs)}, all completed at ${ms(r.worker.postMs + r.worker.ingestMs)}, ` +
      `counts confirmed by the read API at ${ms(r.worker.totalMs)}; workerd CPU ${ms(r.worker.workerdCpuMs)})`,
    `  node:sqlite in process, decode -> commit    ${ms(r.reference.totalMs).padStart(9)}   ` +
      `(avsc decode ${ms(r.reference.decodeMs)}, map ${ms(r.reference.mapMs)}, insert + commit ${ms(r.reference.insertMs)})`,
    `  ratio ${r.ratio.toFixed(2)}x the in-process limit (${r.ratio <= INGEST_TARGET_RATIO ? "meets" : "MISSES"} the <= ${INGEST_TARGET_RATIO}x target)`,
    `  last round per file: POST answered after ${perFile("postMs")}; upload received -> completed (server clock) ${perFile("jobMs")}`,
  ];
  if (r.profile) lines.push(`  CPU profile of one more round:\n${r.profile.replace(/^/gm, "    ")}`);
  return lines.join("\n");
}
