/**
 * An OpenAI-compatible model outside the enclave that is used only while it is attested
 * (remote-attestation.ts). TLS ends at the model endpoint, so the endpoint sees the question and the
 * data; this provider sends them only over a TLS key that a verified attestation report named:
 *
 * - at start (`create`), it fetches a report for a fresh nonce and verifies it against the pinned
 *   root and measurements; the report must name the TLS key of the very connection it came over.
 *   Any failure refuses to start.
 * - on each question, the connection's server key is checked during the handshake, before anything
 *   is written (pinned-tls.ts). A key no report has named (the endpoint rotated it, or another
 *   backend answered) causes a new attestation over the same rules first; if the question's
 *   connection still presents an unattested key, the question fails and was never sent.
 */
import type { AnalystAnswer, AnalystInput } from "../analyst/types.ts";
import type { ModelIdentity } from "../identity.ts";
import { answerOf, chatCompletionBody, contentOf } from "./openai.ts";
import { pinnedHttpsRequest, ResponseTooLarge, TlsKeyMismatch } from "./pinned-tls.ts";
import { ModelError, type ModelProvider } from "./provider.ts";
import {
  MAX_ATTESTATION_BYTES,
  type Measurements,
  measurementsDigest,
  type PinnedModelRoot,
  REMOTE_ATTESTATION_PATH,
  RemoteAttestationError,
  verifyRemoteAttestation,
} from "./remote-attestation.ts";

export interface AttestedOpenAiOptions {
  /** https only, up to and including the API version, e.g. `https://inference.example.com/v1`. */
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey?: string;
  readonly root: PinnedModelRoot;
  readonly measurements: Measurements;
  readonly timeoutMs?: number;
  readonly attestationTimeoutMs?: number;
  readonly maxReportAgeMs?: number;
  /** PEM CA certificates for the endpoint's TLS certificate (a private CA); Node's bundled CAs otherwise. */
  readonly tlsCa?: string;
  /** Told of each accepted attestation: never any input, only the key and why it was attested. */
  readonly log?: (event: ModelAttestedEvent) => void;
}

export interface ModelAttestedEvent {
  readonly event: "model.attested";
  readonly reason: "start" | "key-change";
  readonly spkiSha256: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_ATTESTATION_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 1024 * 1024;
const NONCE_BYTES = 32;
/** Keys attested so far; a service with several TEE backends has one key per backend. */
const MAX_ATTESTED_KEYS = 16;
/** `openai:` + `@` + 16 hex digits of digest leave this much of the 200-character model id. */
const MAX_MODEL_NAME_CHARS = 200 - "openai:@".length - 16;

export class AttestedOpenAiProvider implements ModelProvider {
  readonly name: string;
  readonly identity: ModelIdentity;
  readonly #options: AttestedOpenAiOptions;
  readonly #base: URL;
  readonly #timeoutMs: number;
  /** SHA-256 of the TLS keys a verified report named, oldest first. */
  readonly #attestedKeys: string[] = [];
  #attesting: Promise<void> | undefined;

  private constructor(options: AttestedOpenAiOptions, base: URL, digest: string) {
    this.#options = options;
    this.#base = base;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.name = `openai:${options.model}@${digest}`;
    this.identity = { id: this.name, kind: "remote-attested", confidential: true };
  }

  /** Attests the endpoint; rejects (RemoteAttestationError or ModelError) when it cannot be trusted. */
  static async create(options: AttestedOpenAiOptions): Promise<AttestedOpenAiProvider> {
    const base = URL.parse(options.baseUrl.replace(/\/+$/, ""));
    // Plain http would hand the question to anyone on the path, attested or not.
    if (base === null || base.protocol !== "https:") throw new TypeError("an attested model endpoint must be an https URL");
    if (base.username !== "" || base.password !== "") throw new TypeError("the model URL must not carry credentials");
    if (options.model === "" || options.model.length > MAX_MODEL_NAME_CHARS) {
      throw new TypeError(`model name must be 1-${MAX_MODEL_NAME_CHARS} characters`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError("model timeoutMs must be a positive integer");
    const provider = new AttestedOpenAiProvider(options, base, await measurementsDigest(options.measurements));
    await provider.#attest("start");
    return provider;
  }

  /** SHA-256 of the TLS keys attested so far. */
  get attestedKeys(): readonly string[] {
    return [...this.#attestedKeys];
  }

  async answer(input: AnalystInput, options: { signal?: AbortSignal } = {}): Promise<AnalystAnswer> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    try {
      let response: Awaited<ReturnType<typeof pinnedHttpsRequest>>;
      try {
        response = await this.#post(input, signal);
      } catch (error) {
        if (!(error instanceof TlsKeyMismatch)) throw error;
        await this.#reattest();
        response = await this.#post(input, signal);
      }
      if (response.status < 200 || response.status > 299) throw new ModelError(`model endpoint answered HTTP ${response.status}`);
      return answerOf(contentOf(response.body), input);
    } catch (error) {
      throw toModelError(error, timeout, signal);
    }
  }

  #post(input: AnalystInput, signal: AbortSignal) {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.#options.apiKey !== undefined && this.#options.apiKey !== "")
      headers.authorization = `Bearer ${this.#options.apiKey}`;
    return pinnedHttpsRequest({
      url: this.#url("/chat/completions"),
      method: "POST",
      headers,
      body: chatCompletionBody(this.#options.model, input),
      acceptKey: (key) => this.#attestedKeys.includes(key),
      ...(this.#options.tlsCa === undefined ? {} : { ca: this.#options.tlsCa }),
      signal,
      maxBytes: MAX_ANSWER_BYTES,
    });
  }

  /** One re-attestation at a time: concurrent questions that meet a new key wait for the same one. */
  #reattest(): Promise<void> {
    this.#attesting ??= this.#attest("key-change").finally(() => {
      this.#attesting = undefined;
    });
    return this.#attesting;
  }

  async #attest(reason: ModelAttestedEvent["reason"]): Promise<void> {
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(NONCE_BYTES))).toString("hex");
    const url = this.#url(REMOTE_ATTESTATION_PATH);
    url.searchParams.set("nonce", nonce);
    const signal = AbortSignal.timeout(this.#options.attestationTimeoutMs ?? DEFAULT_ATTESTATION_TIMEOUT_MS);
    const response = await pinnedHttpsRequest({
      url,
      method: "GET",
      headers: { accept: "application/json" },
      ...(this.#options.tlsCa === undefined ? {} : { ca: this.#options.tlsCa }),
      signal,
      maxBytes: MAX_ATTESTATION_BYTES,
    }).catch((error: unknown) => {
      throw toModelError(error, signal, signal, "model endpoint attestation");
    });
    if (response.status !== 200) throw new ModelError(`model endpoint attestation answered HTTP ${response.status}`);
    const report = await verifyRemoteAttestation(response.body, {
      root: this.#options.root,
      measurements: this.#options.measurements,
      model: this.#options.model,
      nonce,
      now: new Date(),
      ...(this.#options.maxReportAgeMs === undefined ? {} : { maxAgeMs: this.#options.maxReportAgeMs }),
    });
    // Without this, a relay holding a genuine report could terminate TLS with a key of its own.
    if (report.tlsSpkiSha256 !== response.spkiSha256) {
      throw new RemoteAttestationError("TLS_KEY_NOT_ATTESTED", "the report names another TLS key than the one it came over");
    }
    if (!this.#attestedKeys.includes(report.tlsSpkiSha256)) {
      this.#attestedKeys.push(report.tlsSpkiSha256);
      if (this.#attestedKeys.length > MAX_ATTESTED_KEYS) this.#attestedKeys.shift();
    }
    this.#options.log?.({ event: "model.attested", reason, spkiSha256: report.tlsSpkiSha256 });
  }

  #url(path: string): URL {
    return new URL(`${this.#base.href.replace(/\/+$/, "")}${path}`);
  }
}

/** Names the failure without quoting anything: a Node error can carry request details, so it is dropped. */
function toModelError(error: unknown, timeout: AbortSignal, signal: AbortSignal, what = "model endpoint"): ModelError {
  if (error instanceof ModelError) return error;
  if (error instanceof TlsKeyMismatch) return new ModelError("model endpoint TLS key is not attested; nothing was sent");
  if (error instanceof ResponseTooLarge) return new ModelError(`${what} response is too large`);
  if (timeout.aborted) return new ModelError(`${what} timeout`);
  if (signal.aborted) return new ModelError("model request aborted");
  const code = (error as { code?: unknown } | null)?.code;
  return new ModelError(typeof code === "string" ? `${what} connection failed (${code})` : `${what} connection failed`);
}
