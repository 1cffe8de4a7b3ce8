// The production model (DESIGN §9): any endpoint that speaks the OpenAI Chat Completions API.
// The enclave is the only place the question and the data exist in plaintext, so this module
// sends them to the configured endpoint and nowhere else, and every failure it reports names
// what went wrong (status, timeout, shape) without quoting the request, the data or the reply.
import type { AnalystAnswer, AnalystInput } from "../analyst/types.ts";
import type { ModelIdentity } from "../identity.ts";
import { ModelError, type ModelProvider } from "./provider.ts";

export interface OpenAiCompatibleOptions {
  /** Up to and including the API version, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl: string;
  readonly model: string;
  /** Sent as `Authorization: Bearer`; omitted for endpoints that need none (a local server). */
  readonly apiKey?: string;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 60_000;

const SYSTEM_PROMPT = [
  "You are a health-data analyst. Answer the user's question using only the data supplied in the message;",
  "never rely on outside knowledge about the person, and if the data cannot answer the question, say so.",
  "Relative periods such as 'last week' or 'yesterday' are measured from the instant given as Now.",
  "Each metric series states its unit; state the numbers you used, with their units and periods.",
  "Answer concisely, in plain text, in at most a few sentences.",
].join(" ");

export class OpenAiCompatibleProvider implements ModelProvider {
  readonly name: string;
  // Nothing attests this endpoint: TLS ends at its operator, who sees the plaintext. The enclave
  // uses it only when configured as non-confidential; attested-openai.ts is the attested path.
  readonly identity: ModelIdentity;
  readonly #endpoint: string;
  readonly #model: string;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: OpenAiCompatibleOptions) {
    const base = URL.parse(options.baseUrl);
    if (base === null || (base.protocol !== "https:" && base.protocol !== "http:")) {
      throw new TypeError("model baseUrl must be an http(s) URL");
    }
    if (options.model === "") throw new TypeError("model name must not be empty");
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError("model timeoutMs must be a positive integer");
    this.name = `openai:${options.model}`;
    this.identity = { id: this.name, kind: "remote", confidential: false };
    this.#endpoint = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
    this.#model = options.model;
    this.#apiKey = options.apiKey === "" ? undefined : options.apiKey;
    this.#timeoutMs = timeoutMs;
    this.#fetch = options.fetch ?? fetch;
  }

  async answer(input: AnalystInput, options: { signal?: AbortSignal } = {}): Promise<AnalystAnswer> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    const content = await this.#complete(input, signal).catch((error: unknown) => {
      throw toModelError(error, timeout, signal);
    });
    return answerOf(content, input);
  }

  async #complete(input: AnalystInput, signal: AbortSignal): Promise<string> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    const body = chatCompletionBody(this.#model, input);
    // A redirect would resend the question somewhere the operator did not configure.
    const response = await this.#fetch(this.#endpoint, { method: "POST", headers, body, signal, redirect: "error" });
    if (!response.ok) {
      await response.body?.cancel();
      throw new ModelError(`model endpoint answered HTTP ${response.status}`);
    }
    return contentOf(await response.text());
  }
}

/** The Chat Completions request for one question: the system prompt, then the question, the instant and the data. */
export function chatCompletionBody(model: string, input: AnalystInput): string {
  return JSON.stringify({
    model,
    messages: [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: `Question: ${input.question}\nNow: ${input.now}\nData: ${JSON.stringify(input.data)}` },
    ],
    temperature: 0,
  });
}

/** A model's free text as an answer: it names no figures, and used every series it was given. */
export function answerOf(content: string, input: AnalystInput): AnalystAnswer {
  const usedMetrics = Object.keys(input.data.metrics);
  if ((input.data.sleep?.length ?? 0) > 0) usedMetrics.push("sleep");
  return { answer: content, usedMetrics, figures: [] };
}

/** The answer text of a Chat Completions response body; a ModelError naming the shape problem otherwise. */
export function contentOf(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ModelError("malformed response from model endpoint: not JSON");
  }
  const content = field(field(field(field(parsed, "choices"), 0), "message"), "content");
  if (typeof content !== "string") throw new ModelError("malformed response from model endpoint: no choices[0].message.content");
  const answer = content.trim();
  if (answer === "") throw new ModelError("malformed response from model endpoint: empty content");
  return answer;
}

function field(value: unknown, key: string | number): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  return (value as Record<string | number, unknown>)[key];
}

/** Maps whatever fetch threw to a ModelError; the original is dropped, not chained, since it may quote the request. */
function toModelError(error: unknown, timeout: AbortSignal, signal: AbortSignal): ModelError {
  if (error instanceof ModelError) return error;
  if (timeout.aborted) return new ModelError("model endpoint timeout");
  if (signal.aborted) return new ModelError("model request aborted");
  const code = field(field(error, "cause"), "code");
  return new ModelError(
    typeof code === "string" ? `model endpoint connection failed (${code})` : "model endpoint connection failed",
  );
}
