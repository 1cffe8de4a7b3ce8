/**
 * The enclave application (DESIGN §9): it holds an ephemeral HPKE key pair, answers ATTEST with a
 * Nitro attestation document carrying that public key and the caller's nonce, and answers QUERY by
 * opening the sealed question and data, asking the model, and sealing the answer back with a
 * receipt signed by the key its attestation documents name (receipt.ts).
 *
 * What leaves this class is either a sealed answer, an attestation document or an error code.
 * Nothing of a question, its data or its answer is logged, written or put in an error: the log
 * callback sees the message kind, the outcome code and the duration only.
 */
import type { AnalystAnswer } from "../analyst/types.ts";
import { base64url, type EnclaveIdentity, encodeEnclaveIdentity } from "../identity.ts";
import type { ModelProvider } from "../model/provider.ts";
import { MAX_NONCE_BYTES, type Nsm, type PcrDescription } from "../nsm/nsm.ts";
import {
  decodeMessage,
  type EnclaveErrorCode,
  EnclaveKeys,
  type EnclaveQuery,
  encodeMessage,
  errorMessage,
  MessageKind,
  ProtocolError,
  type SealedAnswer,
  toAnalystData,
} from "../protocol.ts";
import { answerDigest, dataDigest, questionDigest, signReceipt } from "../receipt.ts";

export interface EnclaveLogEvent {
  readonly event: "enclave.request";
  readonly kind: "attest" | "query" | "unknown";
  readonly outcome: "ok" | EnclaveErrorCode;
  readonly ms: number;
}

export interface EnclaveAppOptions {
  readonly nsm: Nsm;
  readonly model: ModelProvider;
  /** Generated when absent; tests pass one to seal to it. */
  readonly keys?: EnclaveKeys;
  /** Queries answered at once; more get BUSY rather than queueing plaintext in memory. */
  readonly maxConcurrentQueries?: number;
  readonly modelTimeoutMs?: number;
  readonly log?: (event: EnclaveLogEvent) => void;
  /** The enclave's clock, which dates receipts; tests pass their own. */
  readonly clock?: () => Date;
}

const DEFAULT_MAX_CONCURRENT_QUERIES = 8;
const DEFAULT_MODEL_TIMEOUT_MS = 60_000;

/** The receipt-signing key: ECDSA P-256, generated at start, never exported, gone at exit. */
type ReceiptKeyPair = Awaited<ReturnType<typeof generateReceiptKey>>;

async function generateReceiptKey() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

export class EnclaveApp {
  readonly keys: EnclaveKeys;
  /** What every attestation document's user_data carries (identity.ts). */
  readonly identity: EnclaveIdentity;
  readonly #userData: Uint8Array;
  readonly #receiptKey: ReceiptKeyPair;
  readonly #pcrs: PcrDescription;
  readonly #clock: () => Date;
  readonly #nsm: Nsm;
  readonly #model: ModelProvider;
  readonly #maxConcurrent: number;
  readonly #modelTimeoutMs: number;
  readonly #log: (event: EnclaveLogEvent) => void;
  #inFlight = 0;

  private constructor(options: EnclaveAppOptions, keys: EnclaveKeys, receiptKey: ReceiptKeyPair, pcrs: PcrDescription) {
    this.keys = keys;
    this.#receiptKey = receiptKey;
    this.#pcrs = { 0: pcrs[0], 1: pcrs[1], 2: pcrs[2] };
    this.#clock = options.clock ?? (() => new Date());
    this.identity = { v: 1, receiptKey: base64url(receiptKey.publicKey), model: options.model.identity };
    // Encoded once: a model identity that does not fit is a start-up error, not a per-request one.
    this.#userData = encodeEnclaveIdentity(this.identity);
    this.#nsm = options.nsm;
    this.#model = options.model;
    this.#maxConcurrent = options.maxConcurrentQueries ?? DEFAULT_MAX_CONCURRENT_QUERIES;
    this.#modelTimeoutMs = options.modelTimeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS;
    this.#log = options.log ?? (() => {});
  }

  static async create(options: EnclaveAppOptions): Promise<EnclaveApp> {
    // PCRs do not change while an enclave runs: read once, named in every receipt.
    const pcrs = await options.nsm.describePcrs();
    return new EnclaveApp(options, options.keys ?? (await EnclaveKeys.generate()), await generateReceiptKey(), pcrs);
  }

  get modelName(): string {
    return this.#model.name;
  }

  /** Answers one message with one message; never throws. */
  async handle(message: Uint8Array): Promise<Uint8Array> {
    const started = performance.now();
    let kind: EnclaveLogEvent["kind"] = "unknown";
    let outcome: EnclaveLogEvent["outcome"] = "ok";
    try {
      const decoded = decodeMessage(message);
      if (decoded.kind === MessageKind.ATTEST) {
        kind = "attest";
        return await this.#attest(decoded.body);
      }
      if (decoded.kind === MessageKind.QUERY) {
        kind = "query";
        return await this.#query(decoded.body);
      }
      throw new ProtocolError("BAD_MESSAGE");
    } catch (error) {
      outcome = error instanceof ProtocolError ? error.code : "INTERNAL";
      return errorMessage(outcome);
    } finally {
      this.#log({ event: "enclave.request", kind, outcome, ms: Math.round(performance.now() - started) });
    }
  }

  async #attest(nonce: Uint8Array): Promise<Uint8Array> {
    if (nonce.byteLength === 0 || nonce.byteLength > MAX_NONCE_BYTES) throw new ProtocolError("BAD_NONCE");
    const document = await this.#nsm.getAttestationDocument({
      publicKey: this.keys.publicKey,
      userData: this.#userData,
      nonce: nonce.slice(),
    });
    return encodeMessage(MessageKind.ATTESTATION, document);
  }

  async #query(body: Uint8Array): Promise<Uint8Array> {
    if (this.#inFlight >= this.#maxConcurrent) throw new ProtocolError("BUSY");
    this.#inFlight += 1;
    try {
      return await this.keys.answer(body, (query) => this.#ask(query));
    } finally {
      this.#inFlight -= 1;
    }
  }

  async #ask(query: EnclaveQuery): Promise<SealedAnswer> {
    // A receipt must name the document the Worker verified; a query that does not say is refused
    // before the model sees it.
    const attestationSha256 = query.attestationSha256;
    if (attestationSha256 === undefined) throw new ProtocolError("BAD_QUERY");
    let answer: AnalystAnswer;
    try {
      answer = await this.#model.answer(
        { question: query.question, now: query.now, timeZone: query.timeZone, data: toAnalystData(query.data) },
        { signal: AbortSignal.timeout(this.#modelTimeoutMs) },
      );
    } catch {
      // A model's own error may quote what it was given; only the code crosses this line.
      throw new ProtocolError("MODEL_FAILED");
    }
    // Exactly the fields that are sealed and signed: nothing the model added travels unsigned.
    const sealed: AnalystAnswer = {
      answer: answer.answer,
      usedMetrics: answer.usedMetrics,
      figures: answer.figures.map((figure) => ({ label: figure.label, value: figure.value, unit: figure.unit })),
    };
    const receipt = await signReceipt(
      {
        v: 2,
        questionSha256: await questionDigest(query.question),
        dataSha256: await dataDigest(query.data),
        answerSha256: await answerDigest(sealed),
        model: this.identity.model,
        pcrs: this.#pcrs,
        attestationSha256,
        // What the question's relative words were read against: signed, so they cannot be changed unseen.
        asOf: new Date(query.now).toISOString(),
        timeZone: query.timeZone ?? "UTC",
        time: this.#clock().toISOString(),
      },
      this.#receiptKey.privateKey,
    ).catch(() => {
      throw new ProtocolError("INTERNAL");
    });
    return { ...sealed, receipt };
  }
}
