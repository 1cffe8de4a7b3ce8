// The load harness (`npm run load`, ./users.mjs; the `load` part of `npm run bench`): N simulated
// people against one local workerd, each doing what a phone app does in a day, and what each of
// them cost the Worker, counted by the Worker itself (bench/counters.ts, GET /__bench/counters).
//
// A person: gets a session (the bench-only POST /__bench/session: a user and session written
// directly, with a refresh token), uploads a day of Health Connect data as the exporter writes it
// (one Avro file per record type: heart rate every minute, hourly steps, a night of sleep with its
// stages, CGM glucose every 5 minutes; ~1,750 samples), polls each upload until it is ingested,
// then reads the latest values, the day's summary and a 30-day hourly heart-rate series, and
// refreshes the token; between these steps ten minutes pass for the session (last seen ten minutes
// ago, out of the isolate's 5-second session cache), as it would across a real day. Every answer is checked (status and a basic body check); the first failure
// stops the run with the status and body.
//
// Pacing: people arrive at `arrivalRate` a second (evenly, with a seeded jitter), at most
// `maxActive` at once (the others wait for a slot, as a server with a full connection pool would
// make them), and think `thinkMs` (±50 %, seeded) between steps. The run must end within
// `timeLimitMs`.
import { Agent, request } from "node:http";
import { exportFile, glucoseRecords, heartRateRecords, random, sleepRecords, stepsRecords } from "./export-files.mjs";

export const KINDS = ["session", "upload", "upload-status", "latest", "summary", "series", "refresh"];
/** Kinds that are the bench's own set-up, left out of the per-user-day cost (a person signs up once). */
const SETUP_KINDS = new Set(["session"]);
const DAY_MS = 86_400_000;
const TIME_ZONE = "Europe/Paris";
const REQUEST_TIMEOUT_MS = 120_000;
const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2_000;
/** Queue bindings and the queues they send to (wrangler.toml). */
const QUEUE_OF_BINDING = { INGEST: "pulse-ingest", SYNC: "pulse-sync", WEBHOOKS: "pulse-webhooks" };
/** Longest a message may be delayed (the narrative refresh: 60 s) plus a margin. */
const SETTLE_LIMIT_MS = 120_000;

export class LoadFailure extends Error {}
export class TimeLimitExceeded extends Error {}

const sleep = (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * One person's day as the phone exports it, and the samples it holds: every heart-rate sample,
 * steps record, glucose reading and sleep session is one stored item (stages belong to their night).
 */
export async function dayOfData({ start, seed }) {
  const heartRate = heartRateRecords({ days: 1, recordMinutes: 10, sampleSeconds: 60, start, seed });
  const steps = stepsRecords({ days: 1, start, seed: seed + 1 });
  const sleepNights = sleepRecords({ days: 1, start, seed: seed + 2 });
  const glucose = glucoseRecords({ days: 1, start, seed: seed + 3 });
  const files = await Promise.all([
    exportFile("HeartRate", heartRate),
    exportFile("Steps", steps),
    exportFile("SleepSession", sleepNights),
    exportFile("BloodGlucose", glucose),
  ]);
  const heartRateSamples = heartRate.reduce((sum, record) => sum + record.samples.length, 0);
  const expected = {
    HeartRate: heartRateSamples,
    Steps: steps.length,
    SleepSession: sleepNights.length,
    BloodGlucose: glucose.length,
  };
  const stages = sleepNights.reduce((sum, night) => sum + night.stages.length, 0);
  return { files, expected, samples: Object.values(expected).reduce((a, b) => a + b, 0), heartRateSamples, stages };
}

/** A small HTTP client on a shared keep-alive agent; every answer timed and recorded by kind. */
function httpClient(baseUrl, agent, latencies) {
  return (kind, method, path, { headers = {}, body, expect }) =>
    new Promise((resolvePromise, reject) => {
      const started = performance.now();
      const req = request(new URL(path, baseUrl), { method, agent, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const ms = performance.now() - started;
          const text = Buffer.concat(chunks).toString("utf8");
          if (!expect.includes(res.statusCode)) {
            reject(new LoadFailure(`${kind}: ${method} ${path} answered ${res.statusCode}: ${text.slice(0, 600)}`));
            return;
          }
          latencies.get(kind).push(ms);
          try {
            resolvePromise({ status: res.statusCode, json: text === "" ? null : JSON.parse(text) });
          } catch {
            reject(
              new LoadFailure(
                `${kind}: ${method} ${path} answered ${res.statusCode} with a body that is not JSON: ${text.slice(0, 300)}`,
              ),
            );
          }
        });
        res.on("error", reject);
      });
      req.on("timeout", () =>
        req.destroy(new Error(`${kind}: ${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.on("error", (error) => reject(new LoadFailure(`${kind}: ${method} ${path}: ${error.message}`)));
      req.end(body);
    });
}

function check(condition, message) {
  if (!condition) throw new LoadFailure(message);
}

/** One person's day; returns the observations their uploads wrote. */
async function personDay({ index, call, data, day, think, later, stopped, userIds }) {
  // A phone's own address: the per-IP limit counts each person apart, as it would in production.
  const ip = `10.${80 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`;
  // Between steps of a day, ten minutes pass for the session (bench/worker.ts): its next use is
  // what a phone's next use is, not a request a second later out of a warm cache.
  const step = async () => {
    if (stopped()) throw new LoadFailure("stopped");
    await think();
    if (stopped()) throw new LoadFailure("stopped");
    await later(tokens.sessionId);
  };

  const session = await call("session", "POST", "/__bench/session", { headers: { "CF-Connecting-IP": ip }, expect: [200] });
  const tokens = session.json;
  userIds.push(tokens?.userId);
  check(
    typeof tokens?.accessToken === "string" && typeof tokens.refreshToken === "string",
    `session: no access or refresh token in ${JSON.stringify(tokens).slice(0, 200)}`,
  );
  const auth = () => ({ Authorization: `Bearer ${tokens.accessToken}`, "CF-Connecting-IP": ip });

  await step();
  const uploads = [];
  for (const file of data.files) {
    const receipt = await call("upload", "POST", "/v1/uploads", {
      headers: {
        ...auth(),
        "Content-Type": "application/avro",
        "Content-Disposition": `attachment; filename="${file.name}"`,
        "Content-Length": String(file.bytes.length),
      },
      body: file.bytes,
      expect: [202],
    });
    check(
      receipt.json?.recordCount === file.records && typeof receipt.json.statusUrl === "string",
      `upload ${file.name}: receipt ${JSON.stringify(receipt.json).slice(0, 300)}, the file has ${file.records} records`,
    );
    uploads.push({ file, statusUrl: receipt.json.statusUrl });
  }

  // Each upload is polled until ingested, backing off as a phone would.
  let written = 0;
  let waitMs = POLL_FIRST_MS;
  let pending = uploads;
  while (pending.length > 0) {
    if (stopped()) throw new LoadFailure("stopped");
    await sleep(waitMs);
    waitMs = Math.min(POLL_MAX_MS, waitMs * 2);
    const still = [];
    for (const upload of pending) {
      const { json } = await call("upload-status", "GET", upload.statusUrl, { headers: auth(), expect: [200] });
      check(json?.status !== "failed", `upload ${upload.file.name} failed: ${JSON.stringify(json?.error)}`);
      if (json?.status !== "completed") {
        still.push(upload);
        continue;
      }
      const want = data.expected[upload.file.type];
      const { accepted, duplicate, rejected } = json.counts;
      check(
        accepted === want && duplicate === 0 && rejected === 0,
        `upload ${upload.file.name}: counts ${JSON.stringify(json.counts)}, expected ${want} accepted`,
      );
      written += accepted;
    }
    pending = still;
  }

  await step();
  const latest = await call("latest", "GET", "/v1/observations/latest?metrics=heart_rate,steps,blood_glucose", {
    headers: auth(),
    expect: [200],
  });
  const latestMetrics = new Set((latest.json?.items ?? []).map((item) => item.metric));
  check(
    ["heart_rate", "steps", "blood_glucose"].every((metric) => latestMetrics.has(metric)),
    `latest: expected heart_rate, steps and blood_glucose, got ${JSON.stringify(latest.json).slice(0, 300)}`,
  );

  await step();
  const date = isoDate(day + DAY_MS / 2);
  const summary = await call("summary", "GET", `/v1/summary/daily?date=${date}&tz=${encodeURIComponent(TIME_ZONE)}`, {
    headers: auth(),
    expect: [200],
  });
  check(
    summary.json?.date === date && typeof summary.json.steps === "number" && summary.json.steps > 0,
    `summary: ${JSON.stringify(summary.json).slice(0, 300)}`,
  );

  await step();
  const params = new URLSearchParams({
    metrics: "heart_rate",
    resolution: "hour",
    since: new Date(day + 2 * DAY_MS - 30 * DAY_MS).toISOString(),
    until: new Date(day + 2 * DAY_MS).toISOString(),
    tz: TIME_ZONE,
    limit: "5000",
  });
  const series = await call("series", "GET", `/v1/observations?${params}`, { headers: auth(), expect: [200] });
  const counted = (series.json?.items ?? []).reduce((sum, bucket) => sum + (bucket.count ?? 0), 0);
  check(
    counted === data.heartRateSamples && series.json.nextCursor === null,
    `series: ${counted} heart-rate samples in hourly buckets, expected ${data.heartRateSamples}`,
  );

  await step();
  const refreshed = await call("refresh", "POST", "/v1/auth/refresh", {
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
    body: JSON.stringify({ refreshToken: tokens.refreshToken }),
    expect: [200],
  });
  check(
    typeof refreshed.json?.accessToken === "string" && refreshed.json.refreshToken !== tokens.refreshToken,
    `refresh: ${JSON.stringify(refreshed.json).slice(0, 300)}`,
  );
  return written;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Bytes stored (bench/worker.ts): D1's database, R2's objects, the listed users' HealthStores. */
async function storedBytes(baseUrl, userIds) {
  const res = await fetch(new URL("/__bench/storage", baseUrl), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ userIds }),
  });
  if (!res.ok) throw new LoadFailure(`POST /__bench/storage answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return res.json();
}

async function readCounters(baseUrl) {
  const res = await fetch(new URL("/__bench/counters", baseUrl));
  if (!res.ok) throw new LoadFailure(`GET /__bench/counters answered ${res.status}`);
  return res.json();
}

/**
 * Waits until every message sent during the run has been delivered to its consumer (a person's
 * uploads also queue a narrative refresh, delayed by a minute): what a user-day costs includes the
 * background work it leaves.
 */
async function settle(baseUrl, deadline) {
  for (;;) {
    const counters = await readCounters(baseUrl);
    const sent = {};
    const received = {};
    for (const entry of Object.values(counters)) {
      for (const [binding, count] of Object.entries(entry.queueMessages ?? {})) {
        const queue = QUEUE_OF_BINDING[binding] ?? binding;
        sent[queue] = (sent[queue] ?? 0) + count;
      }
      for (const [queue, count] of Object.entries(entry.queueMessagesReceived ?? {}))
        received[queue] = (received[queue] ?? 0) + count;
    }
    const waiting = Object.entries(sent).filter(([queue, count]) => (received[queue] ?? 0) < count);
    if (waiting.length === 0) return;
    if (performance.now() > deadline) {
      throw new TimeLimitExceeded(
        `queue messages still undelivered: ${waiting.map(([queue, count]) => `${queue} ${received[queue] ?? 0}/${count}`).join(", ")}`,
      );
    }
    await sleep(1_000);
  }
}

export async function resetCounters(baseUrl) {
  const res = await fetch(new URL("/__bench/counters/reset", baseUrl), { method: "POST" });
  if (!res.ok) throw new LoadFailure(`POST /__bench/counters/reset answered ${res.status}`);
}

const sumOf = (list, key) => list.reduce((sum, entry) => sum + (entry[key] ?? 0), 0);
function mergeRecords(list, key) {
  const merged = {};
  for (const entry of list)
    for (const [name, count] of Object.entries(entry[key] ?? {})) merged[name] = (merged[name] ?? 0) + count;
  return merged;
}

/** Totals of the Worker's counters over `kinds`, divided by `per`. */
function perUser(counters, kinds, per) {
  const entries = kinds.map((kind) => counters[kind]).filter(Boolean);
  const divide = (record) => Object.fromEntries(Object.entries(record).map(([name, count]) => [name, count / per]));
  const queueMessagesByQueue = divide(mergeRecords(entries, "queueMessages"));
  const durableObjectRequestsByNamespace = divide(mergeRecords(entries, "durableObjectRequests"));
  const fetchKinds = kinds.filter((kind) => !kind.startsWith("queue:") && !kind.startsWith("do:") && kind !== "scheduled");
  return {
    d1Reads: sumOf(entries, "d1Reads") / per,
    d1Writes: sumOf(entries, "d1Writes") / per,
    d1RowsRead: sumOf(entries, "d1RowsRead") / per,
    d1RowsWritten: sumOf(entries, "d1RowsWritten") / per,
    d1StatementsWithoutMeta: sumOf(entries, "d1WithoutMeta") / per,
    queueMessages: Object.values(queueMessagesByQueue).reduce((a, b) => a + b, 0),
    queueMessagesByQueue,
    r2ClassA: sumOf(entries, "r2ClassA") / per,
    r2ClassB: sumOf(entries, "r2ClassB") / per,
    r2ByOperation: divide(mergeRecords(entries, "r2ByOperation")),
    durableObjectRequests: Object.values(durableObjectRequestsByNamespace).reduce((a, b) => a + b, 0),
    durableObjectRequestsByNamespace,
    workerRequests: fetchKinds.reduce((sum, kind) => sum + (counters[kind]?.requests ?? 0), 0) / per,
    queueBatches: kinds.filter((kind) => kind.startsWith("queue:")).reduce((sum, kind) => sum + counters[kind].requests, 0) / per,
  };
}

/**
 * Runs `users` people against `baseUrl`. `cpuMeter` (./processes.mjs) gives workerd CPU, and
 * bytes stored are read from the Worker before and after. Throws LoadFailure on the first wrong
 * answer and TimeLimitExceeded past `timeLimitMs`, or when queued messages are still undelivered
 * `settleLimitMs` after the last person is done (0: their work is not waited for).
 */
export async function runPopulation({
  baseUrl,
  users,
  seed = 1,
  thinkMs = 500,
  arrivalRate = 2,
  maxActive = 40,
  timeLimitMs,
  settleLimitMs = SETTLE_LIMIT_MS,
  cpuMeter,
  step = () => {},
}) {
  const next = random(seed);
  // The day uploaded: two days ago (UTC), so the night that starts that evening has ended.
  const day = Math.floor(Date.now() / DAY_MS) * DAY_MS - 2 * DAY_MS;
  const latencies = new Map(KINDS.map((kind) => [kind, []]));
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(8, maxActive) });
  const call = httpClient(baseUrl, agent, latencies);
  let failure;
  const stopped = () => failure !== undefined;
  const later = async (sessionId) => {
    const res = await fetch(new URL("/__bench/session/later", baseUrl), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sessionId }),
    });
    if (!res.ok) throw new LoadFailure(`POST /__bench/session/later answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  };
  const think = () => (thinkMs > 0 ? sleep(thinkMs * (0.5 + next())) : Promise.resolve());

  await resetCounters(baseUrl);
  const storageBefore = await storedBytes(baseUrl, []);
  const userIds = [];
  const cpuBefore = cpuMeter?.();
  const started = performance.now();
  const deadline = started + timeLimitMs;
  let observationsWritten = 0;
  let samplesGenerated = 0;
  let completed = 0;
  let active = 0;
  const waiting = [];
  const release = () => {
    active -= 1;
    waiting.shift()?.();
  };
  const acquire = async () => {
    if (active < maxActive) {
      active += 1;
      return;
    }
    await new Promise((resolvePromise) => waiting.push(resolvePromise));
    active += 1;
  };

  const timer = setTimeout(() => {
    failure ??= new TimeLimitExceeded(
      `${completed} of ${users} people completed their day within the ${Math.round(timeLimitMs / 1000)} s time limit`,
    );
  }, timeLimitMs);
  const progress = setInterval(() => step(`load: ${completed}/${users} people done, ${active} active`), 30_000);
  progress.unref();

  const arrivals = Array.from({ length: users }, (_, i) => (arrivalRate > 0 ? ((i + next() * 0.9) / arrivalRate) * 1000 : 0));
  const person = async (index) => {
    await sleep(Math.max(0, started + arrivals[index] - performance.now()));
    if (stopped()) return;
    await acquire();
    try {
      if (stopped()) return;
      const data = await dayOfData({ start: day, seed: seed * 1_000_003 + index * 17 });
      samplesGenerated += data.samples;
      // Added after the await: `x += await …` would add to the value x had before it.
      const written = await personDay({ index, call, data, day, think, later, stopped, userIds });
      observationsWritten += written;
      completed += 1;
    } catch (error) {
      failure ??= error;
    } finally {
      release();
    }
  };
  try {
    await Promise.all(Array.from({ length: users }, (_, index) => person(index)));
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
    agent.destroy();
  }
  if (failure !== undefined) throw failure;
  const elapsedMs = performance.now() - started;
  if (performance.now() > deadline)
    throw new TimeLimitExceeded(`the run took ${Math.round(elapsedMs / 1000)} s, over its time limit`);

  const settleStarted = performance.now();
  if (settleLimitMs > 0) {
    step("load: waiting until every queued message (delayed narrative refreshes too) has been delivered");
    await settle(baseUrl, Math.min(deadline, settleStarted + settleLimitMs));
    // Work started by the last delivery may still be running: a moment for it to end.
    await sleep(2_000);
  }
  const settleSeconds = (performance.now() - settleStarted) / 1000;
  const cpuMs = cpuBefore === undefined ? Number.NaN : cpuMeter() - cpuBefore;
  const counters = await readCounters(baseUrl);
  const storageAfter = await storedBytes(baseUrl, userIds);
  const costKinds = Object.keys(counters).filter((kind) => !SETUP_KINDS.has(kind));
  const elapsedSeconds = elapsedMs / 1000;

  return {
    users,
    elapsedSeconds,
    usersPerSecond: users / elapsedSeconds,
    samplesGenerated,
    observationsWritten,
    observationsPerSecond: observationsWritten / elapsedSeconds,
    latency: Object.fromEntries(
      KINDS.map((kind) => {
        const sorted = latencies.get(kind).sort((a, b) => a - b);
        return [kind, { count: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) }];
      }),
    ),
    cpuMsPerUser: cpuMs / users,
    perUserDay: perUser(counters, costKinds, users),
    perKind: Object.fromEntries(
      Object.entries(counters)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, entry]) => [
          kind,
          {
            requests: entry.requests,
            d1Reads: entry.d1Reads,
            d1Writes: entry.d1Writes,
            d1RowsRead: entry.d1RowsRead,
            d1RowsWritten: entry.d1RowsWritten,
            queueMessages: entry.queueMessages,
            queueMessagesReceived: entry.queueMessagesReceived,
            r2ClassA: entry.r2ClassA,
            r2ClassB: entry.r2ClassB,
            durableObjectRequests: entry.durableObjectRequests,
          },
        ]),
    ),
    storage: {
      samplesStored: observationsWritten,
      // Each person's store is new in the run: its whole size is theirs.
      healthStoreBytesPerSample: storageAfter.healthStoreBytes / observationsWritten,
      d1BytesPerUser: (storageAfter.d1Bytes - storageBefore.d1Bytes) / users,
      d1BytesPerUploadRow: storageAfter.d1BytesPerUploadRow,
      r2BytesPerUserDay: (storageAfter.r2Bytes - storageBefore.r2Bytes) / users,
      r2ObjectsPerUserDay: (storageAfter.r2Objects - storageBefore.r2Objects) / users,
    },
    // Whether the delayed background work was waited for (settleLimitMs 0: not, counts partial).
    settled: settleLimitMs > 0,
    settleSeconds,
    pacing: { thinkMs, arrivalRate, maxActive, timeLimitSeconds: timeLimitMs / 1000, seed },
    counters,
  };
}

const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const record = (entries) =>
  Object.entries(entries)
    .map(([name, count]) => `${name} ${fixed(count, 2)}`)
    .join(", ") || "none";

/** The run as markdown tables. */
export function formatPopulation(r) {
  const lines = [
    `### ${r.users} people, one workerd (loopback)`,
    "",
    `${fixed(r.elapsedSeconds)} s; ${fixed(r.usersPerSecond, 2)} people completed a day/s; ` +
      `${r.observationsWritten.toLocaleString("en")} observations written (${fixed(r.observationsPerSecond, 0)}/s); ` +
      `workerd CPU ${fixed(r.cpuMsPerUser, 0)} ms per person`,
    "",
    "| request | count | p50 ms | p99 ms |",
    "|---|---:|---:|---:|",
    ...KINDS.map((kind) => {
      const l = r.latency[kind];
      return `| ${kind} | ${l.count} | ${fixed(l.p50Ms)} | ${fixed(l.p99Ms)} |`;
    }),
    "",
    "| per user-day | count |",
    "|---|---:|",
    `| D1 statements read / write | ${fixed(r.perUserDay.d1Reads, 2)} / ${fixed(r.perUserDay.d1Writes, 2)} |`,
    `| D1 rows read / written (from meta) | ${fixed(r.perUserDay.d1RowsRead, 1)} / ${fixed(r.perUserDay.d1RowsWritten, 1)} |`,
    `| D1 statements answered without meta (raw) | ${fixed(r.perUserDay.d1StatementsWithoutMeta, 2)} |`,
    `| queue messages | ${fixed(r.perUserDay.queueMessages, 2)} (${record(r.perUserDay.queueMessagesByQueue)}) |`,
    `| R2 class A / class B | ${fixed(r.perUserDay.r2ClassA, 2)} / ${fixed(r.perUserDay.r2ClassB, 2)} (${record(r.perUserDay.r2ByOperation)}) |`,
    `| Durable Object requests | ${fixed(r.perUserDay.durableObjectRequests, 2)} (${record(r.perUserDay.durableObjectRequestsByNamespace)}) |`,
    `| Worker requests (HTTP) / queue batches | ${fixed(r.perUserDay.workerRequests, 2)} / ${fixed(r.perUserDay.queueBatches, 2)} |`,
    `| HealthStore bytes per sample | ${fixed(r.storage.healthStoreBytesPerSample, 1)} |`,
    `| D1 bytes per user / R2 bytes per user-day | ${fixed(r.storage.d1BytesPerUser, 0)} / ${fixed(r.storage.r2BytesPerUserDay, 0)} |`,
    "",
    "| kind | requests | D1 reads | D1 writes | D1 writes/request |",
    "|---|---:|---:|---:|---:|",
    ...Object.entries(r.perKind).map(
      ([kind, k]) =>
        `| ${kind} | ${k.requests} | ${k.d1Reads} | ${k.d1Writes} | ${k.requests > 0 ? fixed(k.d1Writes / k.requests, 2) : "-"} |`,
    ),
  ];
  return lines.join("\n");
}
