// The capacity model of docs/scale.md: from what the load harness measured for one simulated
// person-day (bench/users.mjs, `npm run load -- --users N`, which writes bench/results/load-<N>.json),
// what a stated day of activity costs at a given number of people, against Cloudflare's published
// limits and prices. `node bench/capacity.mjs` prints the tables; `--write` puts them into
// docs/scale.md between its `<!-- capacity:<name>:begin -->` / `<!-- capacity:<name>:end -->`
// markers, so the doc's figures are always this script's output for a named measurement.
//
// Three kinds of figure, kept apart in the output: measured (the harness file), modeled (a measured
// figure scaled by the activity model, below), and estimated (an assumption the harness does not
// measure yet, each named as such). Every limit and price is in CONSTANTS with its source and the
// date it was read; nothing else in this file is a Cloudflare figure.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const READ_ON = "2026-12-07";
const D1_LIMITS = "https://developers.cloudflare.com/d1/platform/limits/";
const D1_PRICING = "https://developers.cloudflare.com/d1/platform/pricing/";
const DO_LIMITS = "https://developers.cloudflare.com/durable-objects/platform/limits/";
const DO_PRICING = "https://developers.cloudflare.com/durable-objects/platform/pricing/";
const WORKERS_LIMITS = "https://developers.cloudflare.com/workers/platform/limits/";
const WORKERS_PRICING = "https://developers.cloudflare.com/workers/platform/pricing/";
const QUEUES_LIMITS = "https://developers.cloudflare.com/queues/platform/limits/";
const QUEUES_PRICING = "https://developers.cloudflare.com/queues/platform/pricing/";
const R2_LIMITS = "https://developers.cloudflare.com/r2/platform/limits/";
const R2_PRICING = "https://developers.cloudflare.com/r2/pricing/";

/**
 * Cloudflare's limits and prices (Workers Paid plan), each as read on READ_ON. `value` is what the
 * model computes with; `text` is how the doc states it.
 * @type {Record<string, { value: number, text: string, product: string, url: string, read: string }>}
 */
export const CONSTANTS = Object.fromEntries(
  /** @type {[string, string, number, string, string][]} */ ([
    ["d1DatabaseBytes", "D1", 10e9, "Max database size: 10 GB, cannot be increased", D1_LIMITS],
    ["d1Databases", "D1", 50_000, "Databases per account: 50,000 (page dated 21 Apr 2026)", D1_LIMITS],
    ["d1AccountBytes", "D1", 1e12, "Storage per account: 1 TB, raisable on request", D1_LIMITS],
    [
      "d1QueriesPerSecond",
      "D1",
      1000,
      "One database is single-threaded: ~1,000 queries/s at 1 ms a query, 10/s at 100 ms",
      D1_LIMITS,
    ],
    ["d1StatementBytes", "D1", 100_000, "SQL statement: 100 KB; each statement of a batch separately", D1_LIMITS],
    ["d1RowBytes", "D1", 2_000_000, "Row, string or BLOB: 2 MB; bound parameters: 100 a query", D1_LIMITS],
    ["d1QueryMs", "D1", 30_000, "Query duration: 30 s, and a whole batch within it; 1,000 queries an invocation", D1_LIMITS],
    [
      "d1Replicas",
      "D1",
      0,
      "Read replication: public beta, only through the Sessions API, replicas at no extra cost; writes stay on the one primary",
      "https://developers.cloudflare.com/d1/best-practices/read-replication/",
    ],
    ["d1RowsReadPrice", "D1", 0.001, "Rows read: 25 billion/month included, then $0.001 a million", D1_PRICING],
    ["d1RowsReadIncluded", "D1", 25e9, "(rows read included a month)", D1_PRICING],
    ["d1RowsWrittenPrice", "D1", 1.0, "Rows written: 50 million/month included, then $1.00 a million", D1_PRICING],
    ["d1RowsWrittenIncluded", "D1", 50e6, "(rows written included a month)", D1_PRICING],
    ["d1StoragePrice", "D1", 0.75, "Storage: 5 GB included, then $0.75 a GB-month", D1_PRICING],
    ["d1StorageIncludedGB", "D1", 5, "(storage included, GB)", D1_PRICING],
    [
      "doObjectBytes",
      "Durable Objects",
      10e9,
      "Storage per SQLite-backed object: 10 GB; objects per namespace: unlimited",
      DO_LIMITS,
    ],
    ["doRequestsPerSecond", "Durable Objects", 1000, "One object: soft limit of 1,000 requests/s, then `overloaded`", DO_LIMITS],
    [
      "doRequestPrice",
      "Durable Objects",
      0.15,
      "Requests (each RPC call, alarm): 1 million/month included, then $0.15 a million",
      DO_PRICING,
    ],
    ["doRequestsIncluded", "Durable Objects", 1e6, "(requests included a month)", DO_PRICING],
    [
      "doDurationPrice",
      "Durable Objects",
      12.5,
      "Duration: 400,000 GB-s/month included, then $12.50 a million GB-s, at 128 MB",
      DO_PRICING,
    ],
    ["doDurationIncludedGBs", "Durable Objects", 400_000, "(GB-s included a month)", DO_PRICING],
    ["doMemoryGB", "Durable Objects", 0.128, "(memory billed per active object, GB)", DO_PRICING],
    [
      "doRowsReadPrice",
      "Durable Objects",
      0.001,
      "SQLite rows read: as D1, 25 billion included, then $0.001 a million",
      DO_PRICING,
    ],
    ["doRowsReadIncluded", "Durable Objects", 25e9, "(SQLite rows read included a month)", DO_PRICING],
    [
      "doRowsWrittenPrice",
      "Durable Objects",
      1.0,
      "SQLite rows written: as D1, 50 million included, then $1.00 a million",
      DO_PRICING,
    ],
    ["doRowsWrittenIncluded", "Durable Objects", 50e6, "(SQLite rows written included a month)", DO_PRICING],
    [
      "doStoragePrice",
      "Durable Objects",
      0.2,
      "SQLite storage: 5 GB-month included, then $0.20 a GB-month (billed since Jan 2026)",
      DO_PRICING,
    ],
    ["doStorageIncludedGB", "Durable Objects", 5, "(SQLite storage included, GB)", DO_PRICING],
    ["workersCpuMsPerRequest", "Workers", 300_000, "CPU per invocation: 5 min (Paid); memory 128 MB", WORKERS_LIMITS],
    ["workersSubrequests", "Workers", 10_000, "Subrequests: 10,000 a request (Paid)", WORKERS_LIMITS],
    ["workersBase", "Workers", 5, "Workers Paid: $5 a month minimum for the account", WORKERS_PRICING],
    ["workersRequestPrice", "Workers", 0.3, "Requests: 10 million/month included, then $0.30 a million", WORKERS_PRICING],
    ["workersRequestsIncluded", "Workers", 10e6, "(requests included a month)", WORKERS_PRICING],
    ["workersCpuPrice", "Workers", 0.02, "CPU: 30 million ms/month included, then $0.02 a million ms", WORKERS_PRICING],
    ["workersCpuMsIncluded", "Workers", 30e6, "(CPU ms included a month)", WORKERS_PRICING],
    ["queueMessagesPerSecond", "Queues", 5000, "Per-queue throughput: 5,000 messages/s, then `Too Many Requests`", QUEUES_LIMITS],
    [
      "queueMessageBytes",
      "Queues",
      128_000,
      "Message: 128 KB; sendBatch: 100 messages or 256 KB; consumer batch: 100",
      QUEUES_LIMITS,
    ],
    ["queueConsumers", "Queues", 250, "Concurrent consumer invocations: 250 (push)", QUEUES_LIMITS],
    ["queueOpPrice", "Queues", 0.4, "Operations: 1 million/month included, then $0.40 a million", QUEUES_PRICING],
    ["queueOpsIncluded", "Queues", 1e6, "(operations included a month)", QUEUES_PRICING],
    [
      "queueOpsPerMessage",
      "Queues",
      3,
      "An operation is each 64 KB written, read or deleted: 3 a delivered message",
      QUEUES_PRICING,
    ],
    ["r2ClassAPrice", "R2", 4.5, "Class A (put, list, multipart): $4.50 a million; 1 million/month free", R2_PRICING],
    ["r2ClassAIncluded", "R2", 1e6, "(Class A included a month)", R2_PRICING],
    ["r2ClassBPrice", "R2", 0.36, "Class B (get, head): $0.36 a million; 10 million/month free", R2_PRICING],
    ["r2ClassBIncluded", "R2", 10e6, "(Class B included a month)", R2_PRICING],
    ["r2StoragePrice", "R2", 0.015, "Standard storage: $0.015 a GB-month; 10 GB-month free; no egress fee", R2_PRICING],
    ["r2StorageIncludedGB", "R2", 10, "(storage included, GB-month)", R2_PRICING],
    ["r2WritesPerKeyPerSecond", "R2", 1, "Writes to the same object key: 1 a second, then 429", R2_LIMITS],
  ]).map(([key, product, value, text, url]) => [key, { value, text, product, url, read: READ_ON }]),
);

/** @param {string} key */
const c = (key) => {
  const entry = CONSTANTS[key];
  if (!entry) throw new Error(`no constant ${key}`);
  return entry.value;
};

/**
 * The activity model: one active person's day. Defaults and why, in docs/scale.md ("The activity
 * model"). `--<kebab-name> <value>` overrides each.
 */
export const DEFAULT_ACTIVITY = {
  users: 10_000_000,
  samplesPerDay: 2000,
  signIns: 2,
  refreshes: 4,
  reads: 12,
  uploadSyncs: 4,
  webhookDeliveries: 8,
  peakToAverage: 2,
  d1QueryMs: 1,
  ledgerShards: 2048,
  // Estimates: figures the harness does not measure yet (each named "estimate" in the output).
  uploadRowBytes: 700,
  securityEventBytes: 600,
  storeRowsWrittenPerSample: 3,
  storeRowsReadPerRead: 2000,
  doWallMsPerRequest: 20,
};

/**
 * What one provider delivery costs, read from the code (src/providers/webhooks/, sync/) because the
 * harness sends none: the route, its WEBHOOKS message, the ledger shard's row, the payload in R2, a
 * SYNC pull (lease, checkpoint and status on the connection row in D1) and the HealthStore write.
 */
export const WEBHOOK_PER_DELIVERY = {
  workerRequests: 2,
  d1Reads: 2,
  d1Writes: 3,
  queues: { WEBHOOKS: 1, SYNC: 1 },
  r2ClassA: 1,
  durableObjects: { WEBHOOK_LEDGER: 1, HEALTH_STORE: 1 },
};

/**
 * Which activity each request kind of the harness grows with (bench/worker.ts `requestKind`; queue
 * consumers are `queue:<queue>`). Other kinds (`do:<Class>`, a Durable Object's own work such as its
 * alarms; `scheduled`; `other`) stay at their measured count a person-day.
 */
const KIND_DRIVER = {
  session: "signIns",
  refresh: "refreshes",
  latest: "reads",
  summary: "reads",
  series: "reads",
  upload: "uploadSyncs",
  "upload-status": "uploadSyncs",
  "queue:pulse-ingest": "uploadSyncs",
  "queue:pulse-sync": "uploadSyncs",
  webhook: "webhookDeliveries",
  "queue:pulse-webhooks": "webhookDeliveries",
};
/** For a result whose kinds do not break a count down: its cause, by queue binding or namespace. */
const QUEUE_DRIVER = { INGEST: "uploadSyncs", SYNC: "uploadSyncs", WEBHOOKS: "webhookDeliveries" };
const OBJECT_DRIVER = { WEBHOOK_LEDGER: "webhookDeliveries" };
const QUEUE_NAMES = { INGEST: "pulse-ingest", SYNC: "pulse-sync", WEBHOOKS: "pulse-webhooks" };
const NUMBERS = ["requests", "d1Reads", "d1Writes", "d1RowsRead", "d1RowsWritten", "r2ClassA", "r2ClassB"];
const isFetchKind = (name) => !name.startsWith("queue:") && !name.startsWith("do:") && name !== "scheduled";
const DAYS_PER_MONTH = 365.25 / 12;
const SECONDS_PER_DAY = 86_400;

/** The newest measurement: the bench/results/load-<N>.json with the largest N, or null. */
export function largestLoadFile(dir = join(ROOT, "bench/results")) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  const runs = names
    .map((name) => ({ name, n: Number(/^load-(\d+)\.json$/.exec(name)?.[1]) }))
    .filter((run) => Number.isFinite(run.n))
    .sort((a, b) => b.n - a.n);
  return runs[0] ? join(dir, runs[0].name) : null;
}

/** @param {string} path */
export function readLoad(path) {
  const load = JSON.parse(readFileSync(path, "utf8"));
  for (const field of ["users", "cpuMsPerUser", "perUserDay", "perKind", "storage"]) {
    if (load[field] === undefined) throw new Error(`${path}: no "${field}" (is it a load harness result?)`);
  }
  return load;
}

/**
 * `perKind` as counts per person-day. bench/population.mjs writes run totals (its `perUserDay`
 * leaves out its set-up kind, `session`); a result already per person is read as it is. Which one
 * is recognised by the D1 queries of the other kinds adding up to `users` times `perUserDay`'s.
 */
function perKindPerUser(load) {
  const kinds = Object.entries(load.perKind);
  const d1 = kinds.filter(([name]) => name !== "session").reduce((sum, [, kind]) => sum + kind.d1Reads + kind.d1Writes, 0);
  const perUser = load.perUserDay.d1Reads + load.perUserDay.d1Writes;
  const divide = load.users > 1 && Math.abs(d1 - perUser * load.users) < Math.abs(d1 - perUser) ? load.users : 1;
  const per = (value) =>
    typeof value === "number"
      ? value / divide
      : Object.fromEntries(Object.entries(value ?? {}).map(([key, count]) => [key, count / divide]));
  return Object.fromEntries(
    kinds.map(([name, kind]) => [name, Object.fromEntries(Object.entries(kind).map(([field, value]) => [field, per(value)]))]),
  );
}

/**
 * The harness's own day, as an activity. With `signIns: 0` (its set-up sign-in is not part of its
 * person-day) and `peakToAverage: 1`, the model reproduces the measured `perUserDay`.
 */
export function measuredActivity(load) {
  const kinds = perKindPerUser(load);
  const sum = (driver) =>
    Object.entries(kinds)
      .filter(([name]) => KIND_DRIVER[name] === driver && isFetchKind(name))
      .reduce((total, [, kind]) => total + kind.requests, 0);
  return {
    signIns: sum("signIns"),
    refreshes: sum("refreshes"),
    reads: sum("reads"),
    // The harness sends its person's day of data as one sync: one file per record type.
    uploadSyncs: 1,
    webhookDeliveries: sum("webhookDeliveries"),
    filesPerSync: kinds.upload?.requests ?? 0,
    // `storage.samplesStored` is the run's total, as bench/population.mjs writes it.
    samplesPerDay: load.storage.samplesStored / load.users,
  };
}

/**
 * The model. `activity` overrides DEFAULT_ACTIVITY; `measuredActivity(load)` with `signIns: 0` and
 * `peakToAverage: 1` reproduces the measured day. An activity the harness did not exercise at all
 * (no request of its kinds) cannot be scaled from it and counts as zero, except provider
 * deliveries, which have their cost from the code.
 */
export function capacityModel(load, activity = {}) {
  const a = { ...DEFAULT_ACTIVITY, ...activity };
  // A measured upload row (the harness copies the run's rows and weighs them) beats the estimate,
  // unless a flag asks for another figure.
  const uploadRowMeasured = activity.uploadRowBytes === undefined && Number.isFinite(load.storage.d1BytesPerUploadRow);
  if (uploadRowMeasured) a.uploadRowBytes = load.storage.d1BytesPerUploadRow;
  const measured = measuredActivity(load);
  const kinds = Object.entries(perKindPerUser(load));
  const ratio = (driver) => {
    if (driver === undefined) return 1;
    const base = measured[driver];
    return base > 0 ? a[driver] / base : 0;
  };
  const kindRatio = (name) => ratio(KIND_DRIVER[name]);
  const day = load.perUserDay;
  const sumKinds = (pick, filter = () => true) =>
    kinds.filter(([name]) => filter(name)).reduce((sum, [name, kind]) => sum + (pick(kind) ?? 0) * kindRatio(name), 0);
  const measuredRequests = kinds.reduce((sum, [, kind]) => sum + kind.requests, 0);
  const requestRatio = measuredRequests > 0 ? sumKinds((kind) => kind.requests) / measuredRequests : 1;
  const uploadRatio = ratio("uploadSyncs");
  // A count every kind breaks down is summed kind by kind, each scaled by its own activity; one
  // that only `perUserDay` holds is scaled by its cause.
  const everyKindHas = (field) => kinds.length > 0 && kinds.every(([, kind]) => kind[field] !== undefined);
  const modeled = Object.fromEntries(
    NUMBERS.map((field) => [field, everyKindHas(field) ? sumKinds((kind) => kind[field]) : undefined]),
  );
  modeled.d1RowsRead ??= day.d1Reads > 0 ? (day.d1RowsRead * modeled.d1Reads) / day.d1Reads : 0;
  modeled.d1RowsWritten ??= day.d1Writes > 0 ? (day.d1RowsWritten * modeled.d1Writes) / day.d1Writes : 0;
  modeled.r2ClassA ??= day.r2ClassA * uploadRatio;
  modeled.r2ClassB ??= day.r2ClassB * uploadRatio;
  const record = (field, fallback, drivers, otherwise) => {
    const out = /** @type {Record<string, number>} */ ({});
    if (everyKindHas(field)) {
      for (const [name, kind] of kinds) {
        for (const [key, count] of Object.entries(kind[field])) out[key] = (out[key] ?? 0) + count * kindRatio(name);
      }
    } else {
      for (const [key, count] of Object.entries(fallback ?? {}))
        out[key] = count * (drivers[key] ? ratio(drivers[key]) : otherwise);
    }
    return out;
  };
  const queues = record("queueMessages", day.queueMessagesByQueue, QUEUE_DRIVER, 1);
  const objects = record("durableObjectRequests", day.durableObjectRequestsByNamespace, OBJECT_DRIVER, requestRatio);
  // Deliveries the harness did not send are added at their cost read from the code.
  const webhooks = measured.webhookDeliveries === 0 ? a.webhookDeliveries : 0;
  for (const [queue, count] of Object.entries(WEBHOOK_PER_DELIVERY.queues))
    queues[queue] = (queues[queue] ?? 0) + count * webhooks;
  for (const [ns, count] of Object.entries(WEBHOOK_PER_DELIVERY.durableObjects))
    objects[ns] = (objects[ns] ?? 0) + count * webhooks;
  const sampleRatio = measured.samplesPerDay > 0 ? a.samplesPerDay / measured.samplesPerDay : 1;
  const perDay = {
    workerRequests: sumKinds((kind) => kind.requests, isFetchKind) + WEBHOOK_PER_DELIVERY.workerRequests * webhooks,
    // CPU follows requests here, an upper bound: the day's samples, most of the ingest's CPU, do not grow with the syncs.
    cpuMs: load.cpuMsPerUser * requestRatio,
    d1Reads: (modeled.d1Reads ?? 0) + WEBHOOK_PER_DELIVERY.d1Reads * webhooks,
    d1Writes: (modeled.d1Writes ?? 0) + WEBHOOK_PER_DELIVERY.d1Writes * webhooks,
    d1RowsRead: modeled.d1RowsRead,
    d1RowsWritten: modeled.d1RowsWritten,
    queueMessages: Object.values(queues).reduce((sum, n) => sum + n, 0),
    queues,
    r2ClassA: modeled.r2ClassA + WEBHOOK_PER_DELIVERY.r2ClassA * webhooks,
    r2ClassB: modeled.r2ClassB,
    durableObjectRequests: Object.values(objects).reduce((sum, n) => sum + n, 0),
    objects,
  };

  const files = a.uploadSyncs * measured.filesPerSync;
  const storage = {
    healthStoreBytesPerYear: a.samplesPerDay * 365 * load.storage.healthStoreBytesPerSample,
    d1GrowthPerYear: 365 * (files * a.uploadRowBytes + a.signIns * a.securityEventBytes),
    d1BytesPerUser: 0,
    r2BytesPerYear: 365 * load.storage.r2BytesPerUserDay * sampleRatio,
  };
  storage.d1BytesPerUser = load.storage.d1BytesPerUser + storage.d1GrowthPerYear;

  const users = a.users;
  const peakPerSecond = (perUserDay) => (perUserDay * users * a.peakToAverage) / SECONDS_PER_DAY;
  const usersAt = (limit, perUserDay) => (perUserDay > 0 ? (limit * SECONDS_PER_DAY) / (perUserDay * a.peakToAverage) : Infinity);
  const d1Capacity = c("d1QueriesPerSecond") / a.d1QueryMs;
  const limits = [
    {
      name: "D1 database size (10 GB), a year of history",
      perUser: `${fmtBytes(storage.d1BytesPerUser)} a person after a year`,
      atUsers: fmtBytes(storage.d1BytesPerUser * users),
      limit: fmtBytes(c("d1DatabaseBytes")),
      utilization: (storage.d1BytesPerUser * users) / c("d1DatabaseBytes"),
      usersAtLimit: c("d1DatabaseBytes") / storage.d1BytesPerUser,
    },
    {
      name: "D1 writes, one primary",
      perUser: `${fmt(perDay.d1Writes)} a day`,
      atUsers: `${fmt(peakPerSecond(perDay.d1Writes))}/s at peak`,
      limit: `~${fmt(d1Capacity)} queries/s at ${a.d1QueryMs} ms`,
      rate: peakPerSecond(perDay.d1Writes),
      utilization: peakPerSecond(perDay.d1Writes) / d1Capacity,
      usersAtLimit: usersAt(d1Capacity, perDay.d1Writes),
    },
    {
      name: "D1 reads + writes, no replicas",
      perUser: `${fmt(perDay.d1Reads + perDay.d1Writes)} a day`,
      atUsers: `${fmt(peakPerSecond(perDay.d1Reads + perDay.d1Writes))}/s at peak`,
      limit: `~${fmt(d1Capacity)} queries/s at ${a.d1QueryMs} ms`,
      utilization: peakPerSecond(perDay.d1Reads + perDay.d1Writes) / d1Capacity,
      usersAtLimit: usersAt(d1Capacity, perDay.d1Reads + perDay.d1Writes),
    },
    ...Object.entries(perDay.queues).map(([queue, count]) => ({
      name: `Queue ${QUEUE_NAMES[queue] ?? queue}`,
      perUser: `${fmt(count)} messages a day`,
      atUsers: `${fmt(peakPerSecond(count))}/s at peak`,
      limit: `${fmt(c("queueMessagesPerSecond"))} messages/s`,
      rate: peakPerSecond(count),
      utilization: peakPerSecond(count) / c("queueMessagesPerSecond"),
      usersAtLimit: usersAt(c("queueMessagesPerSecond"), count),
    })),
    {
      name: `WebhookLedger shard (of ${a.ledgerShards})`,
      perUser: `${fmt(perDay.objects.WEBHOOK_LEDGER ?? 0)} requests a day`,
      atUsers: `${fmt(peakPerSecond(perDay.objects.WEBHOOK_LEDGER ?? 0) / a.ledgerShards)}/s a shard at peak`,
      limit: `${fmt(c("doRequestsPerSecond"))} requests/s an object`,
      utilization: peakPerSecond(perDay.objects.WEBHOOK_LEDGER ?? 0) / a.ledgerShards / c("doRequestsPerSecond"),
      usersAtLimit: usersAt(c("doRequestsPerSecond") * a.ledgerShards, perDay.objects.WEBHOOK_LEDGER ?? 0),
    },
    {
      name: "HealthStore, one per person (10 GB)",
      perUser: `${fmtBytes(storage.healthStoreBytesPerYear)} a year`,
      atUsers: `full after ${fmt(c("doObjectBytes") / storage.healthStoreBytesPerYear)} years`,
      limit: fmtBytes(c("doObjectBytes")),
      utilization: storage.healthStoreBytesPerYear / c("doObjectBytes"),
      usersAtLimit: Infinity,
    },
  ];
  const binding = limits.reduce((first, limit) => (limit.usersAtLimit < first.usersAtLimit ? limit : first));
  return {
    activity: a,
    measured,
    perDay,
    storage,
    limits,
    binding,
    uploadRowMeasured,
    cost: costPerUserMonth(a, perDay, storage),
  };
}

/** Monthly cost of one active person at `a.users` people, itemized; account allowances shared by all. */
function costPerUserMonth(a, perDay, storage) {
  const m = DAYS_PER_MONTH;
  const objectRequests = perDay.durableObjectRequests;
  const million = 1e6;
  const items = [
    ["Workers requests", perDay.workerRequests * m, million, "workersRequestPrice", "workersRequestsIncluded", "modeled"],
    ["Workers CPU ms", perDay.cpuMs * m, million, "workersCpuPrice", "workersCpuMsIncluded", "modeled"],
    ["D1 rows read", perDay.d1RowsRead * m, million, "d1RowsReadPrice", "d1RowsReadIncluded", "modeled"],
    ["D1 rows written", perDay.d1RowsWritten * m, million, "d1RowsWrittenPrice", "d1RowsWrittenIncluded", "modeled"],
    ["D1 storage, GB-month", storage.d1BytesPerUser / 1e9, 1, "d1StoragePrice", "d1StorageIncludedGB", "estimate"],
    ["DO requests", objectRequests * m, million, "doRequestPrice", "doRequestsIncluded", "modeled"],
    [
      "DO duration, GB-s",
      ((objectRequests * a.doWallMsPerRequest) / 1000) * c("doMemoryGB") * m,
      million,
      "doDurationPrice",
      "doDurationIncludedGBs",
      "estimate",
    ],
    [
      "DO rows written",
      a.samplesPerDay * a.storeRowsWrittenPerSample * m,
      million,
      "doRowsWrittenPrice",
      "doRowsWrittenIncluded",
      "estimate",
    ],
    ["DO rows read", a.reads * a.storeRowsReadPerRead * m, million, "doRowsReadPrice", "doRowsReadIncluded", "estimate"],
    ["DO storage, GB-month", storage.healthStoreBytesPerYear / 1e9, 1, "doStoragePrice", "doStorageIncludedGB", "measured"],
    [
      "Queue operations",
      perDay.queueMessages * c("queueOpsPerMessage") * m,
      million,
      "queueOpPrice",
      "queueOpsIncluded",
      "modeled",
    ],
    ["R2 Class A", perDay.r2ClassA * m, million, "r2ClassAPrice", "r2ClassAIncluded", "modeled"],
    ["R2 Class B", perDay.r2ClassB * m, million, "r2ClassBPrice", "r2ClassBIncluded", "modeled"],
    ["R2 storage, GB-month", storage.r2BytesPerYear / 1e9, 1, "r2StoragePrice", "r2StorageIncludedGB", "measured"],
  ].map(([name, quantity, per, price, included, basis]) => {
    const billable = Math.max(0, quantity * a.users - c(included));
    return {
      name,
      quantity,
      price: c(price),
      unit: per === million ? "a million" : "",
      basis,
      dollars: (billable * c(price)) / per / a.users,
    };
  });
  items.push({
    name: "Workers Paid base, shared",
    quantity: 1 / a.users,
    price: c("workersBase"),
    unit: "a month",
    basis: "price",
    dollars: c("workersBase") / a.users,
  });
  return { items, total: items.reduce((sum, item) => sum + item.dollars, 0) };
}

function fmt(value) {
  if (!Number.isFinite(value)) return "never";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

function fmtBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${fmt(value)} ${units[unit]}`;
}

/** A markdown table with padded columns, as the project's formatter (Biome) writes them. */
function table(header, rows) {
  const widths = header.map((cell, i) => Math.max(3, cell.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** The doc's generated sections, by marker name. */
export function renderSections(model, sourceLabel) {
  const { activity: a, measured, perDay, storage, cost, binding, uploadRowMeasured } = model;
  const used = new Set(Object.keys(CONSTANTS));
  return {
    source: [
      `Figures below: \`node bench/capacity.mjs\` on ${sourceLabel}, for **${fmt(a.users)} people**, peak ${a.peakToAverage}× the daily average.`,
      "",
      `**First binding limit: ${binding.name}, at about ${fmt(binding.usersAtLimit)} people.**`,
    ].join("\n"),
    constants: table(
      ["Product", "Limit or price", "Source (read)"],
      [...used]
        .map((key) => CONSTANTS[key])
        .filter((entry) => entry && !entry.text.startsWith("("))
        .map((entry) => [
          entry.product,
          entry.text,
          `[${entry.url.replace("https://developers.cloudflare.com", "")}](${entry.url}) (${entry.read})`,
        ]),
    ),
    activity: table(
      ["A person's day", "Harness day (measured)", "Model"],
      [
        ["Samples stored", fmt(measured.samplesPerDay), fmt(a.samplesPerDay)],
        ["Passkey sign-ins", fmt(measured.signIns), fmt(a.signIns)],
        ["Token refreshes", fmt(measured.refreshes), fmt(a.refreshes)],
        ["Reads (latest, summary, series)", fmt(measured.reads), fmt(a.reads)],
        [`Upload syncs (${fmt(measured.filesPerSync)} files each)`, fmt(measured.uploadSyncs), fmt(a.uploadSyncs)],
        [
          "Provider webhook deliveries",
          fmt(measured.webhookDeliveries),
          `${fmt(a.webhookDeliveries)}${measured.webhookDeliveries === 0 ? " (cost read from the code)" : ""}`,
        ],
      ],
    ),
    day: table(
      ["Per person-day", "Modeled"],
      [
        ["Worker requests", fmt(perDay.workerRequests)],
        ["Workers CPU ms", fmt(perDay.cpuMs)],
        ["D1 reads / writes (queries)", `${fmt(perDay.d1Reads)} / ${fmt(perDay.d1Writes)}`],
        ["D1 rows read / written", `${fmt(perDay.d1RowsRead)} / ${fmt(perDay.d1RowsWritten)}`],
        ...Object.entries(perDay.queues).map(([queue, n]) => [`Queue ${QUEUE_NAMES[queue] ?? queue} messages`, fmt(n)]),
        ["R2 Class A / Class B", `${fmt(perDay.r2ClassA)} / ${fmt(perDay.r2ClassB)}`],
        ...Object.entries(perDay.objects).map(([ns, n]) => [`Durable Object ${ns} requests`, fmt(n)]),
        ["HealthStore growth a year", fmtBytes(storage.healthStoreBytesPerYear)],
        [
          uploadRowMeasured
            ? `D1 growth a year (upload rows: ${fmt(a.uploadRowBytes)} B measured; security events: estimate)`
            : "D1 growth a year (estimate: upload rows, security events)",
          fmtBytes(storage.d1GrowthPerYear),
        ],
        ["R2 growth a year", fmtBytes(storage.r2BytesPerYear)],
      ],
    ),
    limits: table(
      ["Shared resource", "Per person", `At ${fmt(a.users)} people`, "Limit", "Use", "Limit reached at"],
      model.limits.map((l) => [
        l.name,
        l.perUser,
        l.atUsers,
        l.limit,
        `${fmt(l.utilization * 100)} %`,
        Number.isFinite(l.usersAtLimit) ? `${fmt(l.usersAtLimit)} people` : "no shared bound",
      ]),
    ),
    cost: [
      table(
        ["Item", "Per person-month", "Price", "Basis", "$ per person-month"],
        cost.items.map((item) => [
          item.name,
          fmt(item.quantity),
          `$${item.price.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 3 })} ${item.unit}`.trim(),
          item.basis,
          `$${item.dollars.toFixed(5)}`,
        ]),
      ),
      "",
      `**Total: $${cost.total.toFixed(4)} per active person-month** at ${fmt(a.users)} people (allowances of the plan shared by all).`,
    ].join("\n"),
  };
}

/** Replaces each `<!-- capacity:<name>:begin -->…<!-- capacity:<name>:end -->` body; all else stays. */
export function writeSections(doc, sections) {
  let out = doc;
  for (const [name, body] of Object.entries(sections)) {
    const begin = `<!-- capacity:${name}:begin -->`;
    const end = `<!-- capacity:${name}:end -->`;
    const from = out.indexOf(begin);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/scale.md has no ${begin} … ${end}`);
    out = `${out.slice(0, from + begin.length)}\n${body}\n${out.slice(to)}`;
  }
  return out;
}

const kebab = (name) => name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);

function main() {
  const { values } = parseArgs({
    options: {
      file: { type: "string" },
      write: { type: "boolean", default: false },
      doc: { type: "string", default: join(ROOT, "docs/scale.md") },
      ...Object.fromEntries(Object.keys(DEFAULT_ACTIVITY).map((name) => [kebab(name), { type: "string" }])),
    },
  });
  const file = values.file ? resolve(values.file) : largestLoadFile();
  if (!file) {
    console.error("No bench/results/load-<N>.json yet: run `npm run load -- --users 1000`, or pass --file <path>.");
    process.exit(1);
  }
  const activity = {};
  for (const name of Object.keys(DEFAULT_ACTIVITY)) {
    const value = values[kebab(name)];
    if (value !== undefined) activity[name] = Number(value);
  }
  const load = readLoad(file);
  const shown = relative(ROOT, file);
  const stand = shown.startsWith("bench/results/") ? "" : ", a stand-in, **not a measurement**";
  const label = `\`${shown}\` (${fmt(load.users)} simulated people${stand})`;
  console.error(`capacity: read ${relative(ROOT, file)}`);
  const sections = renderSections(capacityModel(load, activity), label);
  if (values.write) {
    writeFileSync(values.doc, writeSections(readFileSync(values.doc, "utf8"), sections));
    console.error(`capacity: wrote ${Object.keys(sections).length} sections of ${relative(ROOT, values.doc)}`);
  } else {
    console.log(Object.values(sections).join("\n\n"));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
