// An open-weights model run by the enclave itself, on its own vCPUs, through llama.cpp
// (node-llama-cpp's prebuilt CPU binary). The weights are a file baked into the enclave image, so
// PCR0 measures them with the code; their SHA-256 is the model's identity, which every attestation
// document's user_data carries and every answer is therefore tied to. Nothing is downloaded or
// compiled at run time, and nothing of a prompt or an answer is logged — llama.cpp's own log lines
// are dropped too, since they are free text a future version might fill with token pieces.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { metricsBehind } from "../analyst/summary.ts";
import type { AnalystAnswer, AnalystInput, MetricSeries, SleepSessionData, SummaryData } from "../analyst/types.ts";
import type { ModelIdentity } from "../identity.ts";
import { ModelError, type ModelProvider } from "./provider.ts";

export interface LlamaProviderOptions {
  /** A GGUF file, read from the image: never fetched. */
  readonly modelPath: string;
  /** The user message — time, question and data — in tokens; the data is cut to fit. */
  readonly maxPromptTokens?: number;
  /** Tokens generated at most per answer. */
  readonly maxAnswerTokens?: number;
  /**
   * The KV cache's size in tokens; must hold the system prompt, the message and the answer. By
   * default just that, rounded up to 256: the cache is memory the enclave must be given.
   */
  readonly contextSize?: number;
  /** CPU threads for evaluation; llama.cpp's default (the math cores) when absent. */
  readonly threads?: number;
}

/** Running totals, for benches and operators: counts and times, never content. */
export interface LlamaStats {
  answers: number;
  promptTokens: number;
  answerTokens: number;
  /** Wall time spent evaluating prompts and generating, in milliseconds. */
  generationMs: number;
}

export const LLAMA_DEFAULTS = { maxPromptTokens: 1024, maxAnswerTokens: 256 } as const;
/** What a chat template wraps around the system prompt and the message (role markers, turn ends). */
const TEMPLATE_TOKENS = 128;
const GGUF_MAGIC = "GGUF";

export const LLAMA_SYSTEM_PROMPT = [
  "You are a health-data analyst running inside a confidential enclave.",
  "Answer the question using only the data in the message; never rely on outside knowledge about the person,",
  "and if the data cannot answer the question, say so.",
  "Relative periods such as 'last week' or 'yesterday' are measured from Now, in the stated time zone.",
  "State the numbers you used, with their units and periods.",
  "If the message says data was left out, say the answer may be incomplete.",
  "Answer in plain text, in at most a few sentences.",
].join(" ");

export interface LlamaPrompt {
  readonly system: string;
  readonly user: string;
  /** The user message's length in tokens, as `countTokens` measured it. */
  readonly tokens: number;
  /** How many data lines were left out to fit the budget (0: none). */
  readonly omittedLines: number;
  /** The metrics (and "sleep") whose figures are in the message. */
  readonly usedMetrics: string[];
}

/**
 * The prompt for one question: pure and deterministic, so tests can read exactly what the model
 * sees. Each metric is summarised (unit, count, period, mean, min, max, latest) rather than listed
 * point by point — a week of minute heart rate would not fit any small model's context — and each
 * sleep session is one line, most recent first; a summary question's narrative comes before them.
 * When the message exceeds `maxTokens`, whole data lines are dropped from the end (oldest sleep
 * sessions, then metrics in reverse name order, then the narrative's last sections) and a
 * line says how many; the question is never cut, and a question that alone does not fit is refused.
 */
export function buildLlamaPrompt(
  input: AnalystInput,
  budget: { readonly maxTokens: number; readonly countTokens: (text: string) => number },
): LlamaPrompt {
  const timeZone = input.timeZone ?? "UTC";
  const local = localFormatter(timeZone);
  const nowMs = Date.parse(input.now);
  const lines: { text: string; metrics: readonly string[] }[] = [];
  // A summary question's data is the person's clinical narrative of that day or week: it comes
  // first, so it is the last thing cut to fit, and its sentences and figures are given as written
  // (the same text GET /v1/narratives serves), with the measures behind them as used metrics.
  if (input.data.narrative !== undefined) lines.push(...narrativeLines(input.data.narrative));
  for (const code of Object.keys(input.data.metrics).sort()) {
    const series = input.data.metrics[code] as MetricSeries;
    lines.push({ text: metricLine(code, series, local), metrics: series.points.length > 0 ? [code] : [] });
  }
  const sessions = [...(input.data.sleep ?? [])].sort((a, b) => Date.parse(b.end) - Date.parse(a.end));
  if (sessions.length > 0) {
    const count = `${sessions.length} session${sessions.length === 1 ? "" : "s"}`;
    lines.push({ text: `- sleep: ${count}, most recent first`, metrics: [] });
  }
  for (const session of sessions) lines.push({ text: sleepLine(session, local), metrics: ["sleep"] });

  const head = [
    `Now: ${Number.isNaN(nowMs) ? input.now : `${local(nowMs)} (${input.now})`}`,
    `Time zone: ${timeZone}`,
    "Data (the only facts you may use; times are local):",
  ];
  const tail = [`Question: ${input.question}`];
  const render = (kept: number) => {
    const body = lines.slice(0, kept).map((line) => line.text);
    if (lines.length === 0) body.push("- no data was selected for this question");
    const omitted = lines.length - kept;
    if (omitted > 0) body.push(`[${omitted} of ${lines.length} data lines left out to fit the model's context]`);
    return [...head, ...body, ...tail].join("\n");
  };

  let kept = lines.length;
  let user = render(kept);
  let tokens = budget.countTokens(user);
  if (tokens > budget.maxTokens) {
    // Binary search for the most lines that fit, then step down in case the count is not monotonic.
    let low = 0;
    let high = lines.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (budget.countTokens(render(middle)) <= budget.maxTokens) low = middle;
      else high = middle - 1;
    }
    for (kept = low; kept >= 0; kept -= 1) {
      user = render(kept);
      tokens = budget.countTokens(user);
      if (tokens <= budget.maxTokens) break;
    }
    if (kept < 0) throw new ModelError("question does not fit the model's prompt budget");
  }
  const usedMetrics = [...new Set(lines.slice(0, kept).flatMap((line) => line.metrics))];
  return { system: LLAMA_SYSTEM_PROMPT, user, tokens, omittedLines: lines.length - kept, usedMetrics };
}

/**
 * The narrative as data lines: a heading naming the period, then per section one line of its
 * sentences and one of its figures (a section's figures rest on its measures, so that line names
 * them too), then the domains without data. Cut from the end like the rest: the last section's
 * figures go first, the heading last.
 */
function narrativeLines(narrative: SummaryData): { text: string; metrics: readonly string[] }[] {
  const span = narrative.period === "day" ? narrative.date : `${narrative.date} to ${narrative.endDate}`;
  const lines: { text: string; metrics: readonly string[] }[] = [
    { text: `- clinical narrative of the ${narrative.period} ${span} (local days in ${narrative.timeZone}):`, metrics: [] },
  ];
  for (const section of narrative.sections) {
    // The sentences state the same numbers as the figures: either line alone uses the measures.
    const metrics = metricsBehind([section]);
    lines.push({ text: `  - ${section.title}: ${section.sentences.join(" ")}`, metrics });
    if (section.figures.length === 0) continue;
    const figures = section.figures.map(
      (figure) => `${figure.label} ${figure.value === null ? "no value" : `${number(figure.value)} ${figure.unit}`.trimEnd()}`,
    );
    lines.push({ text: `    figures: ${figures.join("; ")}`, metrics });
  }
  if (narrative.noData.length > 0) {
    lines.push({ text: `  - no data in this ${narrative.period} for: ${narrative.noData.join(", ")}`, metrics: [] });
  }
  return lines;
}

function metricLine(code: string, series: MetricSeries, local: (ms: number) => string): string {
  const points = series.points.filter((point) => Number.isFinite(point.value));
  if (points.length === 0) return `- ${code} (${series.unit}): no readings`;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let latest = points[0] as (typeof points)[number];
  for (const point of points) {
    sum += point.value;
    min = Math.min(min, point.value);
    max = Math.max(max, point.value);
    first = Math.min(first, Date.parse(point.start));
    last = Math.max(last, Date.parse(point.end));
    if (Date.parse(point.end) >= Date.parse(latest.end)) latest = point;
  }
  const count = `${points.length} reading${points.length === 1 ? "" : "s"}`;
  return (
    `- ${code} (${series.unit}): ${count} from ${local(first)} to ${local(last)}; ` +
    `mean ${number(sum / points.length)}, min ${number(min)}, max ${number(max)}, ` +
    `latest ${number(latest.value)} at ${local(Date.parse(latest.end))}`
  );
}

/** Stages that count as asleep; the rest (awake, in bed, out of bed) do not. */
const ASLEEP = new Set(["deep", "light", "rem", "sleeping", "unknown"]);

function sleepLine(session: SleepSessionData, local: (ms: number) => string): string {
  const start = Date.parse(session.start);
  const end = Date.parse(session.end);
  const byStage = new Map<string, number>();
  for (const stage of session.stages) {
    const minutes = Math.max(0, (Date.parse(stage.end) - Date.parse(stage.start)) / 60_000);
    byStage.set(stage.stage, (byStage.get(stage.stage) ?? 0) + minutes);
  }
  const inSession = Math.max(0, (end - start) / 60_000);
  const asleep =
    session.stages.length === 0
      ? inSession
      : [...byStage].reduce((total, [stage, minutes]) => total + (ASLEEP.has(stage) ? minutes : 0), 0);
  const stages = [...byStage].sort(([a], [b]) => (a < b ? -1 : 1)).map(([stage, minutes]) => `${stage} ${duration(minutes)}`);
  return (
    `  - ${local(start)} to ${local(end)}: asleep ${duration(asleep)} of ${duration(inSession)}` +
    (stages.length > 0 ? ` (${stages.join(", ")})` : "")
  );
}

function number(value: number): string {
  return String(Number(value.toFixed(2)));
}

function duration(minutes: number): string {
  const rounded = Math.round(minutes);
  return `${Math.floor(rounded / 60)} h ${rounded % 60} min`;
}

/** "2026-11-22 07:05 Sun" in the given zone: the calendar words a question uses are local. */
function localFormatter(timeZone: string): (ms: number) => string {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short",
      hourCycle: "h23",
    });
  } catch {
    throw new ModelError("unknown time zone");
  }
  return (ms) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((part) => [part.type, part.value]));
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.weekday}`;
  };
}

/** SHA-256 of a file, streamed: multi-gigabyte weights are never read into memory at once. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function checkGgufHeader(path: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ModelError(code === "ENOENT" ? `model file not found: ${path}` : `model file unreadable: ${path}`);
  }
  try {
    const header = Buffer.alloc(4);
    const { bytesRead } = await handle.read(header, 0, 4, 0);
    if (bytesRead < 4 || header.toString("latin1") !== GGUF_MAGIC) throw new ModelError(`not a GGUF file: ${path}`);
  } finally {
    await handle.close();
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

export class LlamaProvider implements ModelProvider {
  readonly name: string;
  readonly identity: ModelIdentity;
  /** SHA-256 (hex) of the GGUF file, taken before it was loaded. */
  readonly sha256: string;
  readonly maxPromptTokens: number;
  readonly maxAnswerTokens: number;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #sequence: LlamaContextSequence;
  readonly #stats: LlamaStats = { answers: 0, promptTokens: 0, answerTokens: 0, generationMs: 0 };
  /** The tail of the queue of answers: one generation at a time (see `answer`). */
  #turn: Promise<void> = Promise.resolve();

  private constructor(
    sha256: string,
    limits: { maxPromptTokens: number; maxAnswerTokens: number },
    parts: { model: LlamaModel; context: LlamaContext; sequence: LlamaContextSequence },
  ) {
    this.sha256 = sha256;
    this.name = `llama:${sha256.slice(0, 12)}`;
    this.identity = { id: `gguf-sha256:${sha256}`, kind: "llama", confidential: true };
    this.maxPromptTokens = limits.maxPromptTokens;
    this.maxAnswerTokens = limits.maxAnswerTokens;
    this.#model = parts.model;
    this.#context = parts.context;
    this.#sequence = parts.sequence;
  }

  /**
   * Hashes and loads the weights, CPU only. Refuses (throws) a missing, unreadable or corrupt file
   * and limits the context cannot hold, so a bad image fails at start rather than on a question.
   */
  static async load(options: LlamaProviderOptions): Promise<LlamaProvider> {
    const maxPromptTokens = positiveInteger("maxPromptTokens", options.maxPromptTokens ?? LLAMA_DEFAULTS.maxPromptTokens);
    const maxAnswerTokens = positiveInteger("maxAnswerTokens", options.maxAnswerTokens ?? LLAMA_DEFAULTS.maxAnswerTokens);
    if (options.contextSize !== undefined) positiveInteger("contextSize", options.contextSize);
    const threads = options.threads === undefined ? undefined : positiveInteger("threads", options.threads);
    await checkGgufHeader(options.modelPath);
    const sha256 = await sha256File(options.modelPath);
    const llama = await sharedLlama();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
    } catch (error) {
      // At start no question exists yet, so llama.cpp's reason is safe to keep for the operator.
      throw new ModelError(`model file is not a loadable GGUF model: ${options.modelPath}`, { cause: error });
    }
    try {
      const system = model.tokenize(LLAMA_SYSTEM_PROMPT).length;
      const needed = system + maxPromptTokens + maxAnswerTokens + TEMPLATE_TOKENS;
      const contextSize = options.contextSize ?? Math.ceil(needed / 256) * 256;
      if (contextSize < needed) {
        throw new RangeError(
          `contextSize ${contextSize} cannot hold the system prompt (${system}), maxPromptTokens, maxAnswerTokens and the template (${needed} tokens)`,
        );
      }
      if (contextSize > model.trainContextSize) {
        throw new RangeError(`contextSize ${contextSize} exceeds the model's trained context (${model.trainContextSize})`);
      }
      const context = await model.createContext({
        contextSize,
        sequences: 1,
        ...(threads === undefined ? {} : { threads }),
      });
      const sequence = context.getSequence();
      return new LlamaProvider(sha256, { maxPromptTokens, maxAnswerTokens }, { model, context, sequence });
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  get stats(): Readonly<LlamaStats> {
    return { ...this.#stats };
  }

  /** Tokens of `text` as this model counts them. */
  countTokens(text: string): number {
    return this.#model.tokenize(text).length;
  }

  /**
   * One generation at a time: llama.cpp already uses every thread it is given for one sequence, so
   * a second would only halve both speeds and double the KV cache. A call that arrives while another
   * runs waits its turn rather than being refused — EnclaveApp already bounds how many queries are
   * open at once (BUSY beyond that), and the caller's signal (the enclave's model timeout) covers
   * the wait, so a queued question can neither pile up without bound nor outlive its timeout.
   */
  async answer(input: AnalystInput, options: { signal?: AbortSignal } = {}): Promise<AnalystAnswer> {
    const { signal } = options;
    const previous = this.#turn;
    let release: () => void = () => {};
    this.#turn = new Promise((resolve) => {
      release = resolve;
    });
    try {
      await untilAborted(previous, signal);
      return await this.#generate(input, signal);
    } catch (error) {
      if (error instanceof ModelError) throw error;
      // Whatever llama.cpp or node-llama-cpp threw is dropped, not chained: it may quote the text.
      throw new ModelError(signal?.aborted ? "model generation aborted" : "model generation failed");
    } finally {
      // Released only once the previous turn is over too, so an aborted waiter never lets the next
      // one start beside a generation still running.
      void previous.then(release);
    }
  }

  async #generate(input: AnalystInput, signal: AbortSignal | undefined): Promise<AnalystAnswer> {
    signal?.throwIfAborted();
    const prompt = buildLlamaPrompt(input, { maxTokens: this.maxPromptTokens, countTokens: (text) => this.countTokens(text) });
    const { LlamaChatSession } = await import("node-llama-cpp");
    const started = performance.now();
    let generated = 0;
    // The sequence starts empty and is emptied again after, so no answer is conditioned on — or
    // leaves in memory — another question's data.
    await this.#sequence.clearHistory();
    const session = new LlamaChatSession({
      contextSequence: this.#sequence,
      systemPrompt: prompt.system,
      autoDisposeSequence: false,
    });
    try {
      const text = await session.prompt(prompt.user, {
        maxTokens: this.maxAnswerTokens,
        temperature: 0,
        ...(signal === undefined ? {} : { signal }),
        stopOnAbortSignal: false,
        onToken: (tokens) => {
          generated += tokens.length;
        },
      });
      // Control characters (a small or odd model emits them) carry nothing a reader can use.
      const answer = text.replace(/(?![\n\t])\p{Cc}/gu, "").trim();
      if (answer === "") throw new ModelError("model produced an empty answer");
      this.#stats.answers += 1;
      this.#stats.promptTokens += prompt.tokens;
      this.#stats.answerTokens += generated;
      return { answer, usedMetrics: prompt.usedMetrics, figures: [] };
    } finally {
      this.#stats.generationMs += performance.now() - started;
      session.dispose();
      await this.#sequence.clearHistory();
    }
  }

  /** Frees the context and the weights (tests, shutdown); the process-wide llama.cpp stays loaded. */
  async close(): Promise<void> {
    await this.#context.dispose();
    await this.#model.dispose();
  }
}

let llamaInstance: Promise<Llama> | undefined;

/**
 * llama.cpp's CPU backend, loaded once per process from node-llama-cpp's prebuilt binary: never
 * built (`build: "never"`), never downloaded, no GPU probed. Imported on first use, so an enclave
 * running another model never loads the native addon.
 */
function sharedLlama(): Promise<Llama> {
  llamaInstance ??= import("node-llama-cpp").then(({ getLlama, LlamaLogLevel }) =>
    getLlama({
      gpu: false,
      build: "never",
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.error,
      logger: () => {},
    }),
  );
  llamaInstance.catch(() => {
    llamaInstance = undefined;
  });
  return llamaInstance;
}

/** Resolves when `promise` settles, or rejects as soon as `signal` aborts. */
function untilAborted(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new ModelError("model generation aborted while waiting its turn"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
    );
  });
}
