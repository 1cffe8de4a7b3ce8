// `npm run bench -- --only providers`: the provider half of the bench (DESIGN §7, §10).
//
// Webhooks: how long a provider waits for Pulse's acknowledgement. 50 senders (providers retry on
// a slow answer; Strava allows two seconds) POST Oura-signed deliveries, each a distinct event
// (its own object id, so every request is verified, inserted into D1, written to R2 and queued),
// closed-loop against the bench workerd, round-robin with the bare route of bench/worker.ts in
// the same run. Each request carries its own client address, as in the http part, so the
// webhook per-IP limit counts every request without refusing. The INGEST consumer runs in the
// same workerd meanwhile (each event ends `dropped`: no bench user is connected), as it would.
//
// Backfill (to come once the sandbox provider's data API lands): a connected sandbox user's
// `POST /v1/connections/sandbox/sync` over N days, first request to all observations queryable,
// against the sandbox server's own time to serve the same pages. Add it as `benchBackfill` here
// and print it in `formatProviders`.
import { createHmac } from "node:crypto";
import { Agent, request } from "node:http";
import { summarize } from "./report.mjs";

export const WEBHOOK_TARGET_P99_MS = 50;
export const WEBHOOK_TARGET_RATIO = 3;
const CONCURRENCY = 50;
const REQUEST_TIMEOUT_MS = 10_000;

/** The Oura settings the bench worker is started with (PROVIDER_CREDENTIALS): not a real secret. */
export const BENCH_PROVIDER_CREDENTIALS = {
  oura: { clientId: "bench-oura", clientSecret: "bench-oura-client-secret", webhookVerificationToken: "bench-oura-token" },
};

let client = 0;
const freshClient = () => {
  client = (client + 1) % 16_777_216;
  return `10.${client >> 16}.${(client >> 8) & 255}.${client & 255}`;
};

let sequence = 0;

/** A delivery as Oura sends it (x-oura-signature: upper-case hex HMAC-SHA256 of timestamp + body). */
function ouraDelivery() {
  sequence += 1;
  const body = JSON.stringify({
    event_type: "update",
    data_type: "sleep",
    object_id: `bench-${process.pid}-${sequence}`,
    event_time: new Date().toISOString(),
    user_id: `bench-user-${sequence % 500}`,
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", BENCH_PROVIDER_CREDENTIALS.oura.clientSecret)
    .update(timestamp + body)
    .digest("hex")
    .toUpperCase();
  return {
    method: "POST",
    body,
    headers: {
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(body)),
      "x-oura-timestamp": timestamp,
      "x-oura-signature": signature,
      "CF-Connecting-IP": freshClient(),
    },
  };
}

const bareRequest = () => ({ method: "GET", body: null, headers: {} });

function send(agent, url, make) {
  const { method, body, headers } = make();
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const req = request(url, { agent, method, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        resolvePromise({ status, ms: performance.now() - started, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (error) => resolvePromise({ status: `error (${error.message})`, ms: 0, body: "" }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", (error) => resolvePromise({ status: `error (${error.message})`, ms: 0, body: "" }));
    req.end(body ?? undefined);
  });
}

async function load(url, make, durationMs, record, concurrency = CONCURRENCY) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let completed = 0;
  let failure;
  const deadline = performance.now() + durationMs;
  const loop = async () => {
    while (failure === undefined && performance.now() < deadline) {
      const result = await send(agent, url, make);
      if (result.status !== 200) {
        failure = result;
        return;
      }
      completed += 1;
      if (record) latencies.push(result.ms);
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    agent.destroy();
  }
  if (failure !== undefined) throw new Error(`${url} answered ${failure.status}: ${failure.body.slice(0, 300)}`);
  return { completed, elapsedMs: performance.now() - started, latencies };
}

export async function benchWebhooks({ baseUrl, rounds, durationMs, warmupMs, cpuMeter, profile, step }) {
  const routes = [
    { key: "bare", id: "(a)", label: "bare Response", url: new URL("/__bench/bare", baseUrl).href, make: bareRequest },
    { key: "webhook", id: "(w)", label: "POST /webhooks/oura", url: new URL("/webhooks/oura", baseUrl).href, make: ouraDelivery },
    // One sender: the route's own latency, without 50 requests queueing for the same two cores.
    {
      key: "single",
      id: "(w1)",
      label: "POST /webhooks/oura, 1 sender",
      url: new URL("/webhooks/oura", baseUrl).href,
      make: ouraDelivery,
      concurrency: 1,
    },
  ];
  const samples = new Map(routes.map((route) => [route.key, []]));
  for (const route of routes) {
    step(`warming up ${route.label}`);
    await load(route.url, route.make, Math.max(warmupMs, 1000), false);
  }
  for (let round = 1; round <= rounds; round += 1) {
    for (const route of routes) {
      const concurrency = route.concurrency ?? CONCURRENCY;
      step(`round ${round}/${rounds}: ${route.id} ${route.label} (${concurrency} senders, ${durationMs / 1000} s)`);
      await load(route.url, route.make, warmupMs, false, concurrency);
      const cpuBefore = cpuMeter?.();
      const run = await load(route.url, route.make, durationMs, true, concurrency);
      samples.get(route.key).push({ ...run, cpuMs: cpuBefore === undefined ? undefined : cpuMeter() - cpuBefore });
    }
  }
  const [bare, webhook, single] = routes.map((route) => summarize(samples.get(route.key)));
  let profiled;
  if (profile) {
    step(`providers: ${durationMs / 1000} s more of (w) under the CPU profiler (not measured)`);
    profiled = await profile("webhooks", () => load(routes[1].url, ouraDelivery, durationMs, false));
  }
  return {
    concurrency: CONCURRENCY,
    rounds,
    durationMs,
    bare,
    webhook,
    single,
    profile: profiled?.summary,
    ratios: { p50: webhook.p50 / bare.p50, p99: webhook.p99 / bare.p99, cost: bare.rps / webhook.rps },
  };
}

export function webhookMissed(r) {
  return !(r.webhook.p99 < WEBHOOK_TARGET_P99_MS && r.ratios.p99 <= WEBHOOK_TARGET_RATIO);
}

export function formatProviders(r) {
  const row = (label, s) =>
    `  ${label.padEnd(44)} p50 ${s.p50.toFixed(2).padStart(7)} ms  p90 ${s.p90.toFixed(2).padStart(7)} ms  ` +
    `p99 ${s.p99.toFixed(2).padStart(7)} ms  ${s.rps.toFixed(0).padStart(6)} req/s  (${s.requests} requests)`;
  const verdict = (ok) => (ok ? "meets" : "MISSES");
  return [
    `Providers: webhook acknowledgement, ${r.concurrency} senders, ${r.rounds} rounds x ${r.durationMs / 1000} s per route`,
    row("(a) bare Response", r.bare),
    row("(w) POST /webhooks/oura (verify, D1, R2, queue)", r.webhook),
    row("(w1) the same, one sender", r.single),
    `  (w)/(a): p50 ${r.ratios.p50.toFixed(2)}x, p99 ${r.ratios.p99.toFixed(2)}x, throughput cost ${r.ratios.cost.toFixed(2)}x`,
    `  target p99 < ${WEBHOOK_TARGET_P99_MS} ms: ${verdict(r.webhook.p99 < WEBHOOK_TARGET_P99_MS)}; ` +
      `target p99 <= ${WEBHOOK_TARGET_RATIO}x (a)'s p99: ${verdict(r.ratios.p99 <= WEBHOOK_TARGET_RATIO)}`,
    "  backfill: not measured yet (needs the sandbox provider's data API)",
    ...(r.profile ? [`  CPU profile of (w):\n${r.profile.replace(/^/gm, "    ")}`] : []),
  ].join("\n");
}
