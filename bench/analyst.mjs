// The analyst's question set (enclave-bridge/test/question-set.ts, the one `npm run test:bridge`
// checks): how many questions it answers correctly, how many it correctly declines, how many it
// gets wrong, and its latency per question — in process (analyze()) and sealed through the enclave
// application (HPKE to the attested key, the analyst, the sealed answer opened) — against the same
// sealed round trip with a zero-time model measured in the same run: the ratio is what answering
// costs beyond the confidential transport. Part of `npm run bench -- --only ai` (./ai.mjs), or alone:
// `npx node bench/analyst.mjs [runs]`.
import { pathToFileURL } from "node:url";

const WARMUP_RUNS = 20;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

function median(values) {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
}

/** The analyst's series (ISO instants) as the Worker's wire columns (epoch ms), narrative as is. */
function toWire(data) {
  const metrics = {};
  for (const [code, series] of Object.entries(data.metrics)) {
    metrics[code] = {
      unit: series.unit,
      start: series.points.map((p) => Date.parse(p.start)),
      end: series.points.map((p) => Date.parse(p.end)),
      value: series.points.map((p) => p.value),
    };
  }
  const wire = { metrics };
  if (data.sleep !== undefined) {
    wire.sleep = data.sleep.map((s) => ({
      start: Date.parse(s.start),
      end: Date.parse(s.end),
      stages: s.stages.map((t) => ({ stage: t.stage, start: Date.parse(t.start), end: Date.parse(t.end) })),
    }));
  }
  if (data.narrative !== undefined) wire.narrative = data.narrative;
  return wire;
}

async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/**
 * Every question of the set, `runs` times each after a warm-up: its verdict (from the sealed
 * answer, which must equal the in-process one), and the median of its runs for each path.
 */
export async function benchQuestionSet({ runs = 50, step = () => {} } = {}) {
  const { CASES, inputFor, judge } = await import("../enclave-bridge/test/question-set.ts");
  const { analyze } = await import("../enclave-bridge/src/analyst/index.ts");
  const { EnclaveApp } = await import("../enclave-bridge/src/enclave/app.ts");
  const { AnalystProvider } = await import("../enclave-bridge/src/model/analyst-provider.ts");
  const { SimulatedNsm } = await import("../enclave-bridge/src/nsm/simulated-nsm.ts");
  const { decodeMessage, sealQuery } = await import("../enclave-bridge/src/protocol.ts");

  const nsm = await SimulatedNsm.create({ imageIdentity: "bench-analyst" });
  const analyst = await EnclaveApp.create({ nsm, model: new AnalystProvider() });
  const emptyAnswer = { answer: "", usedMetrics: [], figures: [] };
  const zeroTime = await EnclaveApp.create({
    nsm,
    model: {
      name: "zero-time",
      identity: { id: "zero-time", kind: "analyst", confidential: true },
      answer: async () => emptyAnswer,
    },
  });
  const sealed = async (app, query) => {
    const seal = await sealQuery(app.keys.publicKey, query);
    return seal.openAnswer(decodeMessage(await app.handle(seal.message)).body);
  };

  step(
    `analyst: ${CASES.length} questions, ${WARMUP_RUNS} warm-up + ${runs} runs each, in process and sealed through the enclave app`,
  );
  const outcomes = { answered: 0, declined: 0, wrong: 0 };
  const wrong = [];
  const perQuestion = [];
  for (const entry of CASES) {
    const input = inputFor(entry);
    const query = { question: input.question, now: input.now, data: toWire(input.data) };
    if (input.timeZone !== undefined) query.timeZone = input.timeZone;
    const viaEnclave = await sealed(analyst, query);
    const inProcess = analyze(input);
    if (JSON.stringify(viaEnclave) !== JSON.stringify(inProcess))
      throw new Error(`sealed answer differs for "${entry.question}"`);
    const verdict = judge(entry, viaEnclave);
    outcomes[verdict.outcome]++;
    if (verdict.outcome === "wrong") wrong.push(`${entry.question}: ${verdict.reason}`);

    const samples = { analyze: [], sealed: [], reference: [] };
    for (let i = 0; i < WARMUP_RUNS + runs; i++) {
      const keep = i >= WARMUP_RUNS;
      const a = await timed(() => analyze(input));
      const s = await timed(() => sealed(analyst, query));
      const r = await timed(() => sealed(zeroTime, query));
      if (keep) {
        samples.analyze.push(a.ms);
        samples.sealed.push(s.ms);
        samples.reference.push(r.ms);
      }
    }
    perQuestion.push({
      question: entry.question,
      analyze: median(samples.analyze),
      sealed: median(samples.sealed),
      reference: median(samples.reference),
    });
  }
  const inScope = CASES.filter((entry) => !("decline" in entry)).length;
  const slowest = [...perQuestion].sort((a, b) => b.analyze - a.analyze)[0];
  return {
    questions: CASES.length,
    inScope,
    outOfScope: CASES.length - inScope,
    ...outcomes,
    wrongQuestions: wrong,
    runs,
    analyze: spread(perQuestion.map((q) => q.analyze)),
    sealed: spread(perQuestion.map((q) => q.sealed)),
    reference: spread(perQuestion.map((q) => q.reference)),
    slowest: slowest === undefined ? null : { question: slowest.question, ms: slowest.analyze },
  };
}

const ms = (value) => `${value < 1 ? value.toFixed(3) : value.toFixed(2)} ms`;
const times = (a, b) => `${(a / b).toFixed(2)}x`;

/** The report's lines; `askCached` is ./ai.mjs's EnclaveClient.ask with a cached attestation, when measured. */
export function formatQuestionSet(q, askCached) {
  const share = (n, of) => `${((n / of) * 100).toFixed(1)} %`;
  const lines = [
    `Analyst question set (${q.questions} questions, each the median of ${q.runs} runs; latency across questions)`,
    `  answered correctly ${q.answered} of ${q.inScope} in scope (${share(q.answered, q.inScope)}); ` +
      `correctly declined ${q.declined} of ${q.outOfScope} out of scope (${share(q.declined, q.outOfScope)}); wrong ${q.wrong}`,
    `  analyze() in process            p50 ${ms(q.analyze.p50)}  p99 ${ms(q.analyze.p99)}  (slowest: "${q.slowest?.question}")`,
    `  sealed through the enclave app  p50 ${ms(q.sealed.p50)}  p99 ${ms(q.sealed.p99)}`,
    `  reference: same sealed round trip, zero-time model  p50 ${ms(q.reference.p50)}  p99 ${ms(q.reference.p99)}; ` +
      `the analyst makes it ${times(q.sealed.p50, q.reference.p50)} p50, ${times(q.sealed.p99, q.reference.p99)} p99`,
  ];
  if (askCached !== undefined) {
    lines.push(
      `  beside EnclaveClient.ask, attestation cached (zero-time model): p50 ${ms(askCached.p50)}, p99 ${ms(askCached.p99)}; ` +
        `the analyst's p50 per question is ${((q.analyze.p50 / askCached.p50) * 100).toFixed(1)} % of it`,
    );
  }
  for (const line of q.wrongQuestions) lines.push(`  WRONG ${line}`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const runs = Number(process.argv[2] ?? 50);
  const result = await benchQuestionSet({ runs, step: (text) => console.error(text) });
  console.log(formatQuestionSet(result));
  if (result.wrong > 0) process.exitCode = 1;
}
