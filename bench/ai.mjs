import { stat } from "node:fs/promises";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { bundleForNode } from "../scripts/bundle-for-node.mjs";
import { startBridge, stopAiBridge } from "./ai-bridge.mjs";
import { benchQuestionSet, formatQuestionSet } from "./analyst.mjs";
import { apiClient, BenchApiError, signIn, waitForUploads } from "./api.mjs";
import { EXPORT_START, exportFile, heartRateRecords, restingHeartRateRecords } from "./export-files.mjs";
import { loadPulseModules } from "./pulse-modules.mjs";

const DAY_MS = 86_400_000;
const DAYS = 7;
const SINCE = EXPORT_START;
const UNTIL = EXPORT_START + DAYS * DAY_MS;
const QUESTION = "What was my average resting heart rate and heart rate?";
/** The `ai-query` quota of src/ai/routes.ts: 20 questions a minute per user. */
const QUERIES_PER_USER = 20;
const WARMUP_RUNS = 30;
/** Answer length of the tiny in-enclave model, and its measured questions after warm-up. */
const LLAMA_ANSWER_TOKENS = 64;
const LLAMA_WARMUP_RUNS = 3;
const LLAMA_RUNS = 20;
/** bench/worker.ts: `requireAuth()` and an empty answer. */
const FLOOR_PATH = "/v1/__bench/authed";

/** Worker-side code, bundled the way wrangler bundles it (extensionless imports, workerd conditions). */
const WORKER_ENTRY = `
export { attestRequest, decodeMessage, sealQuery } from "./enclave-bridge/src/protocol.ts";
export { loadPinnedRoot, verifyAttestation } from "./src/ai/attestation/index.ts";
export { EnclaveClient } from "./src/ai/enclave.ts";
`;

function loadWorkerModules() {
  return bundleForNode(WORKER_ENTRY, {
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
  });
}

// --- Data ----------------------------------------------------------------------------------------

/** The user's files: a resting heart rate each morning of the week, minute heart rate on its last day. */
function records() {
  return {
    RestingHeartRate: restingHeartRateRecords({ days: DAYS, start: SINCE }),
    HeartRate: heartRateRecords({ days: 1, sampleSeconds: 60, start: UNTIL - DAY_MS, seed: 7 }),
  };
}

let dataset;

/**
 * The query the Worker seals for QUESTION over the week, built from Pulse's own mapping of the same
 * records (the columns HealthStore.analysisDataset reads back), and the analyst's answer to it.
 */
function aiDataset() {
  dataset ??= (async () => {
    const pulse = await loadPulseModules();
    const { analyze, metricsNeeded } = await import("../enclave-bridge/src/analyst/index.ts");
    const { toAnalystData } = await import("../enclave-bridge/src/protocol.ts");
    const observations = Object.entries(records()).flatMap(([type, list]) => pulse.mapRecords(type, list).observations);
    const metrics = {};
    for (const code of metricsNeeded(QUESTION)) {
      const rows = observations
        .filter((o) => o.metric === code && !o.flagged && o.start >= SINCE && o.start < UNTIL)
        .sort((a, b) => a.start - b.start);
      metrics[code] = {
        unit: rows[0]?.unit ?? "",
        start: rows.map((o) => o.start),
        end: rows.map((o) => o.end),
        value: rows.map((o) => o.value),
      };
    }
    // The enclave names the attested document's digest in its receipt and refuses a query without
    // one; sealed directly here, any digest stands in (EnclaveClient.ask puts the verified one).
    const query = {
      question: QUESTION,
      now: new Date(UNTIL).toISOString(),
      attestationSha256: "0".repeat(64),
      data: { metrics },
    };
    const input = { question: query.question, now: query.now, data: toAnalystData(query.data) };
    const points = Object.values(metrics).reduce((sum, series) => sum + series.value.length, 0);
    return { query, input, answer: analyze(input), analyze, points, metrics: Object.keys(metrics) };
  })();
  return dataset;
}

// --- Figures -------------------------------------------------------------------------------------

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1),
  };
}

async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

function check(condition, message) {
  if (!condition) throw new BenchApiError(message);
}

const sameAnswer = (got, want) =>
  got.answer === want.answer &&
  JSON.stringify(got.usedMetrics) === JSON.stringify(want.usedMetrics) &&
  JSON.stringify(got.figures) === JSON.stringify(want.figures);

// --- In process ----------------------------------------------------------------------------------

/** Every stage of a question's overhead in one process, `runs` times after a warm-up. */
export async function benchAiInProcess({ workDir, runs = 300, step = () => {} }) {
  const data = await aiDataset();
  const worker = await loadWorkerModules();
  const { developmentEnclave } = await import("../enclave-bridge/src/dev.ts");
  const { EnclaveApp } = await import("../enclave-bridge/src/enclave/app.ts");
  const identity = await developmentEnclave(join(workDir, "enclave-bridge"));
  // The model answers at once with what the analyst would say, so the answer sealed is real-sized.
  const model = {
    name: "zero-time",
    identity: { id: "zero-time", kind: "analyst", confidential: true },
    answer: async () => structuredClone(data.answer),
  };
  const app = await EnclaveApp.create({ nsm: identity.nsm, model });
  const root = await worker.loadPinnedRoot(identity.rootPem, identity.rootSha256);
  const direct = async (_url, init) => new Response(await app.handle(new Uint8Array(init.body)));
  const client = (ttlSeconds) =>
    new worker.EnclaveClient(
      {
        ENVIRONMENT: "development",
        ENCLAVE_BRIDGE_URL: "http://enclave-bridge.invalid",
        ENCLAVE_BRIDGE_TOKEN: "bench-token-not-sent-anywhere",
        ENCLAVE_PCR0: identity.pcrs[0],
        ENCLAVE_PCR1: identity.pcrs[1],
        ENCLAVE_PCR2: identity.pcrs[2],
        ENCLAVE_ROOT_CERTIFICATE: identity.rootPem,
        ENCLAVE_ROOT_SHA256: identity.rootSha256,
        ENCLAVE_MAX_AGE_SECONDS: 60,
        ENCLAVE_ATTESTATION_TTL_SECONDS: ttlSeconds,
      },
      direct,
    );
  const cachedClient = client(300);
  const uncachedClient = client(0);

  const sizes = { queryJson: new TextEncoder().encode(JSON.stringify(data.query)).byteLength };
  const samples = {
    seal: [],
    enclave: [],
    open: [],
    hpke: [],
    json: [],
    document: [],
    verify: [],
    askCached: [],
    askUncached: [],
    analyze: [],
  };

  const once = async (record) => {
    const keep = (name, ms) => {
      if (record) samples[name].push(ms);
    };
    // Reference: serialise and parse the same query and answer, no sealing.
    const json = await timed(() => {
      const query = JSON.parse(JSON.stringify(data.query));
      return JSON.parse(JSON.stringify(data.answer)).answer.length + query.question.length;
    });
    keep("json", json.ms);

    const seal = await timed(() => worker.sealQuery(app.keys.publicKey, data.query));
    const enclave = await timed(() => app.handle(seal.value.message));
    const open = await timed(() => seal.value.openAnswer(worker.decodeMessage(enclave.value).body));
    check(sameAnswer(open.value, data.answer), "the enclave's sealed answer did not open to the model's answer");
    keep("seal", seal.ms);
    keep("enclave", enclave.ms);
    keep("open", open.ms);
    keep("hpke", seal.ms + enclave.ms + open.ms);
    sizes.queryMessage = seal.value.message.byteLength;
    sizes.answerMessage = enclave.value.byteLength;

    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const attested = await timed(() => app.handle(worker.attestRequest(nonce)));
    const document = worker.decodeMessage(attested.value).body.slice();
    const verified = await timed(() =>
      worker.verifyAttestation(document, {
        root,
        expectedPcrs: identity.pcrs,
        nonce,
        maxAgeMs: 60_000,
        now: new Date(),
      }),
    );
    check(verified.value.ok, `verifyAttestation refused the simulated document: ${verified.value.reason}`);
    keep("document", attested.ms);
    keep("verify", verified.ms);
    sizes.attestationDocument = document.byteLength;

    for (const [name, enclaveClient] of [
      ["askCached", cachedClient],
      ["askUncached", uncachedClient],
    ]) {
      const asked = await timed(() => enclaveClient.ask(data.query));
      check(sameAnswer(asked.value, data.answer), "EnclaveClient.ask did not return the model's answer");
      keep(name, asked.ms);
    }

    const analyzed = await timed(() => data.analyze(data.input));
    keep("analyze", analyzed.ms);
  };

  step(`ai: ${WARMUP_RUNS} warm-up + ${runs} runs in process of every stage (HPKE, attestation, EnclaveClient, analyst)`);
  for (let i = 0; i < WARMUP_RUNS; i++) await once(false);
  for (let i = 0; i < runs; i++) await once(true);
  // The analyst's question set: accuracy, and latency per question beside the cached ask above.
  const questions = await benchQuestionSet({ runs: Math.max(10, Math.round(runs / 15)), step });
  step(
    `ai: the tiny in-enclave model through EnclaveApp, ${LLAMA_WARMUP_RUNS} warm-up + ${LLAMA_RUNS} questions each of 1 and ${LLAMA_ANSWER_TOKENS} answer tokens`,
  );
  const llama = await benchTinyLlama({ workDir, worker, nsm: identity.nsm, query: data.query });
  return {
    questions,
    points: data.points,
    metrics: data.metrics,
    sizes,
    llama,
    ...Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summary(values)])),
  };
}

/**
 * The in-enclave open-weights path (enclave-bridge/src/model/llama.ts) on the tiny random model the
 * tests use: the same question sealed, answered by node-llama-cpp on one thread, and opened. Asked
 * once with a 1-token answer (prompt evaluation and one token) and once with LLAMA_ANSWER_TOKENS,
 * so the difference is the generation rate. One thread: llama.cpp's spinning worker threads turn
 * a shared machine's noise into multi-second stalls, and the enclave's own vCPUs are not shared.
 */
async function benchTinyLlama({ workDir, worker, nsm, query }) {
  const { EnclaveApp } = await import("../enclave-bridge/src/enclave/app.ts");
  const { LlamaProvider } = await import("../enclave-bridge/src/model/llama.ts");
  const { writeTinyGguf } = await import("../enclave-bridge/test/support/tiny-gguf.ts");
  const modelPath = join(workDir, "tiny-llama.gguf");
  await writeTinyGguf(modelPath, { seed: 1 });
  const result = { modelBytes: (await stat(modelPath)).size };
  for (const [key, maxAnswerTokens] of [
    ["oneToken", 1],
    ["answer", LLAMA_ANSWER_TOKENS],
  ]) {
    const loaded = await timed(() => LlamaProvider.load({ modelPath, maxAnswerTokens, threads: 1 }));
    const provider = loaded.value;
    try {
      const app = await EnclaveApp.create({ nsm, model: provider });
      const samples = [];
      let before = provider.stats;
      for (let i = 0; i < LLAMA_WARMUP_RUNS + LLAMA_RUNS; i++) {
        if (i === LLAMA_WARMUP_RUNS) before = provider.stats;
        const sealed = await worker.sealQuery(app.keys.publicKey, query);
        const asked = await timed(() => app.handle(sealed.message));
        const reply = worker.decodeMessage(asked.value);
        check(reply.kind === 0x82, "the enclave did not answer the tiny model's question");
        const answer = await sealed.openAnswer(reply.body);
        check(answer.answer.length > 0, "the tiny model's answer is empty");
        if (i >= LLAMA_WARMUP_RUNS) samples.push(asked.ms);
      }
      const after = provider.stats;
      result[key] = {
        ...summary(samples),
        loadMs: loaded.ms,
        promptTokens: (after.promptTokens - before.promptTokens) / LLAMA_RUNS,
        answerTokens: (after.answerTokens - before.answerTokens) / LLAMA_RUNS,
      };
    } finally {
      await provider.close();
    }
  }
  return result;
}

// --- Over HTTP -----------------------------------------------------------------------------------

let client = 0;
/** Each request its own client address, so the per-IP abuse limit counts without refusing. */
function clientAddress() {
  client = (client + 1) % 65_536;
  return `10.78.${client >> 8}.${client & 255}`;
}

/** One request over a keep-alive connection: ms from sending to the last byte, and the body. */
function timedRequest(agent, url, { method = "GET", token, body }) {
  return new Promise((resolvePromise, reject) => {
    const headers = { Authorization: `Bearer ${token}`, "CF-Connecting-IP": clientAddress() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const started = performance.now();
    const req = request(url, { agent, method, headers, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => {
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 200)
          reject(new BenchApiError(`${method} ${url.pathname} answered ${res.statusCode}: ${text.slice(0, 400)}`));
        else resolvePromise({ ms, body: text });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: no answer within 30 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** A signed-in user on `baseUrl` holding the week of data, uploaded through the real path. */
async function userWithData(baseUrl, files) {
  const token = await signIn(baseUrl);
  const api = apiClient(baseUrl, token);
  try {
    const receipts = [];
    for (const file of files) receipts.push(await api.upload(file));
    await waitForUploads(
      api,
      receipts.map((receipt) => receipt.uploadId),
      { intervalMs: 20, timeoutMs: 60_000 },
    );
  } finally {
    api.close();
  }
  return token;
}

/** One workerd with the bridge's bindings and the given attestation TTL, and `users` users loaded. */
async function aiInstance({ startWorker, name, bindings, ttlSeconds, users, files }) {
  const server = await startWorker(name, { ...bindings, ENCLAVE_ATTESTATION_TTL_SECONDS: String(ttlSeconds) });
  const tokens = [];
  for (let i = 0; i < users; i++) tokens.push(await userWithData(server.url, files));
  return { server, tokens, agent: new Agent({ keepAlive: true, maxSockets: 1 }) };
}

/**
 * `requests` questions to each workerd. The quota allows QUERIES_PER_USER a minute per user, so
 * each user asks that many: the first user's only warm up the instance, the others' first one
 * warms up the user (its HealthStore and its quota's RateLimiter object) and the rest are timed.
 */
export async function benchAiHttp({ workDir, startWorker, requests = 200, step = () => {} }) {
  const data = await aiDataset();
  const files = await Promise.all(Object.entries(records()).map(([type, list]) => exportFile(type, list)));
  const measuredPerUser = QUERIES_PER_USER - 1;
  const users = 1 + Math.ceil(requests / measuredPerUser);

  step("ai: starting the enclave-bridge (enclave with the simulated NSM and the analyst, parent proxy) as child processes");
  const bridge = await startBridge(workDir);
  const instances = [];
  try {
    for (const [key, ttlSeconds] of [
      ["cached", 300],
      ["uncached", 0],
    ]) {
      step(`ai: workerd with ENCLAVE_ATTESTATION_TTL_SECONDS=${ttlSeconds}, ${users} users each uploading the week of data`);
      instances.push({
        key,
        ...(await aiInstance({ startWorker, name: `ai-${key}`, bindings: bridge.bindings, ttlSeconds, users, files })),
      });
    }
    const body = JSON.stringify({
      question: QUESTION,
      since: new Date(SINCE).toISOString(),
      until: new Date(UNTIL).toISOString(),
    });
    const params = new URLSearchParams({
      metrics: data.metrics.join(","),
      resolution: "raw",
      since: new Date(SINCE).toISOString(),
      until: new Date(UNTIL).toISOString(),
      limit: "5000",
    });
    const ask = (instance, token) =>
      timedRequest(instance.agent, new URL("/v1/ai/query", instance.server.url), { method: "POST", token, body });
    const read = (instance, token) =>
      timedRequest(instance.agent, new URL(`/v1/observations?${params}`, instance.server.url), { token });
    const floor = (instance, token) => timedRequest(instance.agent, new URL(FLOOR_PATH, instance.server.url), { token });

    // The Worker reads the store and the enclave answers from it: the answer must be the analyst's
    // answer to the very data uploaded, and the plain read must return every point of it.
    const sizes = {};
    for (const instance of instances) {
      const answer = JSON.parse((await ask(instance, instance.tokens[0])).body);
      check(sameAnswer(answer, data.answer), `POST /v1/ai/query answered ${JSON.stringify(answer).slice(0, 300)}`);
      const raw = await read(instance, instance.tokens[0]);
      const { items } = JSON.parse(raw.body);
      check(items.length === data.points, `GET /v1/observations returned ${items.length} points, the dataset has ${data.points}`);
      sizes.answer = new TextEncoder().encode(JSON.stringify(answer)).byteLength;
      sizes.read = Buffer.byteLength(raw.body);
    }

    step(
      `ai: ${requests} questions per workerd, each followed by the same user's raw read and the floor route ` +
        `(${measuredPerUser} a user after one unmeasured: the quota is ${QUERIES_PER_USER}/min)`,
    );
    const latencies = { cached: [], uncached: [], reference: [], floor: [] };
    /** One question, the plain read, the floor: timed into `latencies` when `key` is given. */
    const triple = async (instance, token, key) => {
      const times = [await ask(instance, token), await read(instance, token), await floor(instance, token)];
      if (key === undefined) return;
      latencies[key].push(times[0].ms);
      latencies.reference.push(times[1].ms);
      latencies.floor.push(times[2].ms);
    };
    for (const instance of instances) {
      for (let i = 1; i < QUERIES_PER_USER; i++) await triple(instance, instance.tokens[0]);
    }
    for (let user = 1; user < users; user++) {
      for (const instance of instances) await triple(instance, instance.tokens[user]);
      for (let i = 0; i < measuredPerUser; i++) {
        for (const instance of instances) {
          if (latencies[instance.key].length < requests) await triple(instance, instance.tokens[user], instance.key);
        }
      }
    }
    for (const instance of instances) {
      const { errors } = instance.server.logs;
      if (errors.length > 0)
        throw new Error(`the worker (${instance.key}) logged errors, figures discarded:\n${errors.join("\n")}`);
    }
    check(bridge.logged.failed === 0, `the enclave-bridge refused ${bridge.logged.failed} requests`);
    return {
      users,
      points: data.points,
      sizes,
      bridge: {
        attest: summary(bridge.logged.attest),
        query: summary(bridge.logged.query),
        proxy: summary(bridge.logged.proxy),
      },
      ...Object.fromEntries(Object.entries(latencies).map(([name, values]) => [name, summary(values)])),
    };
  } finally {
    for (const instance of instances) {
      instance.agent.destroy();
      await instance.server.dispose().catch(() => {});
    }
    stopAiBridge();
  }
}

// --- Report --------------------------------------------------------------------------------------

const ms = (value) => `${value.toFixed(value < 1 ? 3 : 2).padStart(7)} ms`;
const row = (label, s) =>
  `  ${label.padEnd(52)} p50 ${ms(s.p50)}  p90 ${ms(s.p90)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  (${s.count})`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const added = (a, b) => `${a - b >= 0 ? "+" : ""}${(a - b).toFixed(2)} ms`;

export function formatAi({ inProcess: p, http: h }) {
  const lines = [];
  if (p) {
    lines.push(
      `Confidential AI overhead in process (Node ${process.versions.node}; ${p.points} points: ${p.metrics.join(", ")}; ` +
        `query ${(p.sizes.queryJson / 1024).toFixed(1)} KiB JSON, sealed ${(p.sizes.queryMessage / 1024).toFixed(1)} KiB, ` +
        `answer ${p.sizes.answerMessage} B sealed, attestation document ${(p.sizes.attestationDocument / 1024).toFixed(1)} KiB)`,
      row("Worker: seal the query (HPKE)", p.seal),
      row("enclave: open, zero-time model, seal the answer", p.enclave),
      row("Worker: open the answer", p.open),
      row("HPKE round trip (the three above)", p.hpke),
      row("reference: JSON round trip of query and answer", p.json),
      row("enclave: attestation document (simulated NSM)", p.document),
      row("Worker: verifyAttestation (the uncached check)", p.verify),
      row("EnclaveClient.ask, attestation cached", p.askCached),
      row("EnclaveClient.ask, attested on every query", p.askUncached),
      row("analyst: analyze() (model time, excluded above)", p.analyze),
      `  HPKE round trip p50 ${ratio(p.hpke.p50, p.json.p50)} the JSON round trip (${added(p.hpke.p50, p.json.p50)}); ` +
        `an uncached attestation adds ${added(p.askUncached.p50, p.askCached.p50)} p50, ${added(p.askUncached.p99, p.askCached.p99)} p99 ` +
        `(${ratio(p.askUncached.p50, p.askCached.p50)} the cached ask)`,
    );
    if (p.questions) lines.push("", formatQuestionSet(p.questions, p.askCached));
    if (p.llama) lines.push(...formatTinyLlama(p.llama, p.askCached));
  }
  if (h) {
    if (lines.length > 0) lines.push("");
    lines.push(
      `Confidential AI over HTTP (workerd, enclave-bridge as child processes; ${h.points} points a question; ` +
        `${h.users} users per workerd; answer ${h.sizes.answer} B, raw read ${(h.sizes.read / 1024).toFixed(1)} KiB)`,
      row("POST /v1/ai/query, attestation cached (TTL 300 s)", h.cached),
      row("POST /v1/ai/query, attested every query (TTL 0)", h.uncached),
      row("reference: GET /v1/observations raw, same data", h.reference),
      row("floor: authenticated empty route", h.floor),
      ...[
        ["cached:  ", h.cached],
        ["uncached:", h.uncached],
      ].map(
        ([label, s]) =>
          `  ${label} p50 ${ratio(s.p50, h.reference.p50)} the plain read (${added(s.p50, h.reference.p50)}), ` +
          `p99 ${ratio(s.p99, h.reference.p99)} (${added(s.p99, h.reference.p99)}); ` +
          `above the floor ${added(s.p50, h.floor.p50)} p50, ${added(s.p99, h.floor.p99)} p99`,
      ),
      `  the bridge's own logs (whole ms, warm-ups included): enclave ${h.bridge.query.count} queries p50 ${h.bridge.query.p50} ms ` +
        `p99 ${h.bridge.query.p99} ms, ${h.bridge.attest.count} attestations p50 ${h.bridge.attest.p50} ms p99 ${h.bridge.attest.p99} ms; ` +
        `proxy ${h.bridge.proxy.count} exchanges p50 ${h.bridge.proxy.p50} ms p99 ${h.bridge.proxy.p99} ms`,
      ...(p
        ? [
            `  the enclave here runs the built-in analyst: each answer above includes analyze(), p50 ${p.analyze.p50.toFixed(2)} ms in process`,
          ]
        : []),
    );
  }
  return lines.join("\n");
}

function formatTinyLlama(l, cached) {
  const decodeMs = l.answer.p50 - l.oneToken.p50;
  const decoded = l.answer.answerTokens - l.oneToken.answerTokens;
  return [
    `  In-enclave model: the tiny random GGUF (${(l.modelBytes / 1024).toFixed(0)} KiB, 64-wide, 2 layers; llama.cpp CPU, 1 thread; ` +
      `${l.answer.promptTokens.toFixed(0)} prompt tokens; loaded in ${l.answer.loadMs.toFixed(0)} ms)`,
    row("enclave: open, prompt + 1 token, seal", l.oneToken),
    row(`enclave: open, prompt + ${l.answer.answerTokens.toFixed(0)} tokens, seal`, l.answer),
    `  tiny model: prompt evaluation and first token p50 ${ratio(l.oneToken.p50, cached.p50)} the cached-attestation ask ` +
      `(${added(l.oneToken.p50, cached.p50)}); generation ${(decoded / (decodeMs / 1000)).toFixed(0)} tokens/s ` +
      `(${decoded.toFixed(0)} tokens in ${decodeMs.toFixed(2)} ms, p50 difference); a ${l.answer.answerTokens.toFixed(0)}-token answer ` +
      `${ratio(l.answer.p50, cached.p50)} the cached-attestation ask. A 1B model has ~10,000x its weights: real figures in docs/confidential-ai.md`,
  ];
}

export { stopAiBridge };
