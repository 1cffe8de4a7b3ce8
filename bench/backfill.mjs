// The backfill half of the providers part (`npm run bench -- --only providers`): a new sandbox
// connection's 90-day backfill, from the OAuth callback to every observation queryable in
// `/v1/observations`, against uploading the same kind and number of observations as a Health
// Connect export, in the same run and the same workerd. Target: the backfill within 2x the upload.
//
// The sandbox provider (tools/sandbox-provider) runs in this process, as `npm run dev` runs it;
// the bench worker reaches it over loopback (SANDBOX_PROVIDER_ORIGIN). The person grants only the
// `heart_rate` scope (the bench narrows the scope of the authorize URL, as a person unticking
// boxes would), which serves heart rate every minute (129,600 samples in 90 days), CGM glucose
// every 5 minutes (25,920) and one HRV reading a night (~90). The upload holds heart rate every
// minute (in 10-minute Health Connect records) and glucose every 5 minutes over the same 90 days:
// the same observations but for the nightly HRV, which has no record in that export.
//
// Both clocks stop at the same read: hourly buckets of heart rate and glucose over the 90 days,
// whose counts must equal what was served or uploaded.
import { serveSandboxProvider } from "../tools/sandbox-provider/serve.ts";
import { apiClient, BenchApiError, signIn, waitForUploads } from "./api.mjs";
import { exportFile, glucoseRecords, heartRateRecords } from "./export-files.mjs";

export const BACKFILL_TARGET_RATIO = 2;
const DAYS = 90;
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const METRICS = ["heart_rate", "blood_glucose"];
const TIMEOUT_MS = 10 * 60_000;

/** The sandbox app the bench worker is configured with (PROVIDER_CREDENTIALS): not a real secret. */
export const BENCH_SANDBOX_CREDENTIALS = {
  clientId: "bench-sandbox",
  clientSecret: "bench-sandbox-client-secret",
  webhookSigningSecret: "bench-sandbox-signing-secret",
};

/** The sandbox provider on a free loopback port; any http redirect URI (the bench worker's port is not known yet). */
export function startBenchSandbox() {
  return serveSandboxProvider({ ...BENCH_SANDBOX_CREDENTIALS, redirectUriPrefix: "http://", port: 0 });
}

const sleep = (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

function check(condition, message) {
  if (!condition) throw new BenchApiError(message);
}

let client = 0;
const address = () => {
  client = (client + 1) % 65_536;
  return `10.78.${client >> 8}.${client & 255}`;
};

/**
 * The browser's part of connecting, over plain HTTP: start (`POST /v1/connections/sandbox`),
 * Pulse's confirmation page posted back, the sandbox consent approved with the heart-rate scope
 * only. Answers the callback path to open and the binding cookie to open it with.
 */
async function authorize(baseUrl, token) {
  const started = await fetch(new URL("/v1/connections/sandbox", baseUrl), {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": address() },
  });
  if (started.status !== 201)
    throw new BenchApiError(`POST /v1/connections/sandbox answered ${started.status}: ${await started.text()}`);
  const flow = new URL((await started.json()).authorizeUrl).searchParams.get("flow") ?? "";
  const confirmed = await fetch(new URL("/oauth/sandbox/connect", baseUrl), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: new URL(baseUrl).origin },
    body: new URLSearchParams({ flow, decision: "continue" }),
    redirect: "manual",
  });
  if (confirmed.status !== 303)
    throw new BenchApiError(`POST /oauth/sandbox/connect answered ${confirmed.status}: ${await confirmed.text()}`);
  const cookie = (confirmed.headers.getSetCookie().find((value) => value.includes("pulse_oauth_binding=")) ?? "").split(";")[0];
  const providerUrl = new URL(confirmed.headers.get("Location") ?? "");
  providerUrl.searchParams.set("scope", "heart_rate");
  const page = await fetch(providerUrl);
  const consent = /name="consent" value="([^"]+)"/.exec(await page.text())?.[1];
  check(page.status === 200 && consent !== undefined, `the sandbox consent page answered ${page.status}`);
  const approved = await fetch(new URL("/oauth/authorize", providerUrl), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      consent,
      decision: "approve",
      account: `bench-${crypto.randomUUID()}`,
      time_zone: "Europe/Paris",
    }),
    redirect: "manual",
  });
  check(approved.status === 303, `the sandbox consent answered ${approved.status}`);
  const back = new URL(approved.headers.get("Location") ?? "");
  return { callback: `${back.pathname}${back.search}`, cookie };
}

/** Hourly buckets of `METRICS` over [since, until): the sample count per metric. */
async function counts(api, since, until) {
  const buckets = await api.observations({
    metrics: METRICS.join(","),
    resolution: "hour",
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
  });
  const count = Object.fromEntries(METRICS.map((metric) => [metric, 0]));
  for (const bucket of buckets) count[bucket.metric] += bucket.count;
  return count;
}

async function connections(baseUrl, token) {
  const res = await fetch(new URL("/v1/connections", baseUrl), {
    headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": address() },
  });
  check(res.status === 200, `GET /v1/connections answered ${res.status}`);
  return (await res.json()).connections;
}

/** From the callback to the backfill's observations readable: ms, and what was read. */
async function backfill(baseUrl, step) {
  const token = await signIn(baseUrl);
  const api = apiClient(baseUrl, token);
  try {
    const { callback, cookie } = await authorize(baseUrl, token);
    const started = performance.now();
    const callbackAt = Date.now();
    const done = await fetch(new URL(callback, baseUrl), { headers: { Cookie: cookie }, redirect: "manual" });
    if (done.status !== 200)
      throw new BenchApiError(`the OAuth callback answered ${done.status}: ${(await done.text()).slice(0, 300)}`);
    const connectedMs = performance.now() - started;
    // The backfill asks for [now - 90 days, now) at the callback; heart rate and glucose samples
    // fall on whole minutes, so the read spans whole minutes around it.
    const since = Math.floor((callbackAt - DAYS * DAY_MS) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const until = Math.ceil(callbackAt / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    let connection;
    for (;;) {
      check(performance.now() - started < TIMEOUT_MS, `the backfill did not finish within ${TIMEOUT_MS / 60_000} minutes`);
      [connection] = (await connections(baseUrl, token)).filter((row) => row.provider === "sandbox");
      check(connection?.lastError == null, `the backfill failed: ${JSON.stringify(connection?.lastError)}`);
      if (connection?.lastSyncAt) break;
      await sleep(100);
    }
    const read = await counts(api, since, until);
    const ms = performance.now() - started;
    step(`  backfill: connected in ${connectedMs.toFixed(0)} ms, read ${JSON.stringify(read)}`);
    // Every minute and every 5 minutes of 90 days, less the last hour: a new sandbox account's data
    // ends an hour before it was created, as a provider's data arrives late.
    const expected = { heart_rate: DAYS * 1440 - 60, blood_glucose: DAYS * 288 - 12 };
    for (const metric of METRICS) {
      check(
        Math.abs(read[metric] - expected[metric]) <= 2,
        `backfill: ${read[metric]} ${metric} samples, expected ${expected[metric]}`,
      );
    }
    return { ms, connectedMs, observations: read };
  } finally {
    api.close();
  }
}

/** The same observations as a Health Connect export: posted, ingested, read back. */
async function upload(baseUrl, files, start) {
  const api = apiClient(baseUrl, await signIn(baseUrl));
  try {
    const started = performance.now();
    const receipts = [];
    for (const file of files) receipts.push(await api.upload(file));
    await waitForUploads(
      api,
      receipts.map((receipt) => receipt.uploadId),
      { intervalMs: 100, timeoutMs: TIMEOUT_MS },
    );
    const read = await counts(api, start, start + DAYS * DAY_MS);
    const ms = performance.now() - started;
    check(read.heart_rate === DAYS * 1440, `upload: ${read.heart_rate} heart-rate samples, expected ${DAYS * 1440}`);
    check(read.blood_glucose === DAYS * 288, `upload: ${read.blood_glucose} glucose samples, expected ${DAYS * 288}`);
    return { ms, observations: read, bytes: files.reduce((sum, file) => sum + file.bytes.length, 0) };
  } finally {
    api.close();
  }
}

export async function benchBackfill({ baseUrl, rounds, step }) {
  // The upload covers the same 90 days the backfill reads (ending now), so both land in the same
  // HealthStore partitions and buckets.
  const start = Math.floor((Date.now() - DAYS * DAY_MS) / DAY_MS) * DAY_MS;
  step(`backfill: building a ${DAYS}-day Health Connect export (heart rate every minute, glucose every 5 minutes)`);
  const files = await Promise.all([
    exportFile("HeartRate", heartRateRecords({ days: DAYS, sampleSeconds: 60, start, seed: 7 })),
    exportFile("BloodGlucose", glucoseRecords({ days: DAYS, start, seed: 8 })),
  ]);
  const runs = [];
  for (let round = 1; round <= rounds; round += 1) {
    step(`backfill round ${round}/${rounds}: a new sandbox connection's ${DAYS}-day backfill, callback to readable`);
    const provider = await backfill(baseUrl, step);
    step(`backfill round ${round}/${rounds}: the same observations uploaded as a Health Connect export, to readable`);
    const uploaded = await upload(baseUrl, files, start);
    runs.push({ backfill: provider, upload: uploaded });
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const backfillMs = median(runs.map((run) => run.backfill.ms));
  const uploadMs = median(runs.map((run) => run.upload.ms));
  return { days: DAYS, rounds, runs, backfillMs, uploadMs, ratio: backfillMs / uploadMs };
}

export function backfillMissed(r) {
  return !(r.ratio <= BACKFILL_TARGET_RATIO);
}

export function formatBackfill(r) {
  const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const last = r.runs[r.runs.length - 1];
  return [
    `Providers: ${r.days}-day backfill against an upload of the same observations (median of ${r.rounds})`,
    `  (b) sandbox backfill, OAuth callback to readable   ${seconds(r.backfillMs).padStart(9)}  ` +
      `(${last.backfill.observations.heart_rate} heart-rate + ${last.backfill.observations.blood_glucose} glucose samples, and the nightly HRV)`,
    `  (u) Health Connect upload, first byte to readable ${seconds(r.uploadMs).padStart(9)}  ` +
      `(${last.upload.observations.heart_rate} + ${last.upload.observations.blood_glucose}, ${(last.upload.bytes / 1024).toFixed(0)} KiB in 2 files)`,
    `  (b)/(u): ${r.ratio.toFixed(2)}x  target <= ${BACKFILL_TARGET_RATIO}x: ${r.ratio <= BACKFILL_TARGET_RATIO ? "meets" : "MISSES"}`,
    `  rounds: ${r.runs.map((run) => `${seconds(run.backfill.ms)} / ${seconds(run.upload.ms)}`).join(", ")}`,
  ].join("\n");
}
