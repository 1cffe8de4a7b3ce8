/**
 * The messages between the Worker and the enclave (DESIGN §9). The parent-instance proxy carries
 * them as opaque bytes; only the two ends understand them. This module runs in both — the Worker
 * (workerd) and the enclave (Node) — so it uses WebCrypto and @hpke/core only, no Node APIs.
 *
 * A message is one kind byte followed by its body:
 *   0x01 ATTEST       nonce (1–512 bytes)                      Worker → enclave
 *   0x02 QUERY        keyId (8) ‖ enc (32) ‖ HPKE ciphertext   Worker → enclave
 *   0x81 ATTESTATION  attestation document (COSE_Sign1)       enclave → Worker
 *   0x82 ANSWER       AES-256-GCM ciphertext                   enclave → Worker
 *                     (of the answer and its signed receipt, receipt.ts)
 *   0xff ERROR        an ASCII error code, never any plaintext enclave → Worker
 *
 * A query is sealed with HPKE base mode (RFC 9180 §5.1), DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-256-GCM, to the public key the verified attestation document carries; the key id binds the
 * ciphertext to that key. The answer travels back under a key and nonce both sides export from the
 * same HPKE context (RFC 9180 §9.8, "bidirectional encryption"), so only the Worker that sealed the
 * question can read it. Each context answers once, so its exported nonce is never reused.
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import type { AnalystAnswer, AnalystData, Figure, SummaryData, SummarySection } from "./analyst/types.ts";
import { MAX_NONCE_BYTES } from "./nsm/nsm.ts";

export const MessageKind = {
  ATTEST: 0x01,
  QUERY: 0x02,
  ATTESTATION: 0x81,
  ANSWER: 0x82,
  ERROR: 0xff,
} as const;

/** What the enclave answers instead of an answer. Codes only: a detail could leak plaintext. */
export const ENCLAVE_ERRORS = [
  "BAD_MESSAGE",
  "BAD_NONCE",
  "UNKNOWN_KEY",
  "DECRYPT_FAILED",
  "BAD_QUERY",
  "MODEL_FAILED",
  "BUSY",
  "INTERNAL",
] as const;
export type EnclaveErrorCode = (typeof ENCLAVE_ERRORS)[number];

export const HPKE_SUITE = { kem: "DHKEM(X25519, HKDF-SHA256)", kdf: "HKDF-SHA256", aead: "AES-256-GCM" } as const;
export const X25519_PUBLIC_KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;
const ENC_BYTES = 32;
const AES_GCM_NONCE_BYTES = 12;
const INFO = new TextEncoder().encode("pulse/enclave-bridge/v1 query");
const ANSWER_KEY_LABEL = new TextEncoder().encode("pulse/enclave-bridge/v1 answer key");
const ANSWER_NONCE_LABEL = new TextEncoder().encode("pulse/enclave-bridge/v1 answer nonce");

/**
 * The question and the data it needs, as the enclave receives them. Series travel as columns of
 * epoch milliseconds (a third of the size of ISO strings); `toAnalystData` expands them.
 */
export interface EnclaveQuery {
  question: string;
  /** ISO 8601 instant that relative periods ("last week") are measured from. */
  now: string;
  /**
   * The time zone calendar words ("yesterday", "on Monday", "my day") are read in: an IANA name, a
   * ±HH:MM offset or UTC (as the API's `tz`). UTC when absent.
   */
  timeZone?: string;
  /**
   * SHA-256 (hex) of the attestation document the Worker verified before sealing this query: the
   * enclave names it in the answer's receipt, so a verifier can tie the receipt key to that document.
   */
  attestationSha256?: string;
  data: WireDataset;
}

/**
 * What the enclave seals back: the model's answer and the enclave's signed receipt for it
 * (receipt.ts). The receipt is checked here only for being an object; the Worker verifies it in full.
 */
export interface SealedAnswer extends AnalystAnswer {
  receipt?: unknown;
}

export interface WireSeries {
  unit: string;
  start: number[];
  end: number[];
  value: number[];
}

export interface WireSleepSession {
  start: number;
  end: number;
  stages: { stage: string; start: number; end: number }[];
}

export interface WireDataset {
  metrics: Record<string, WireSeries>;
  sleep?: WireSleepSession[];
  /**
   * The clinical narrative of the local day or week a summary question asks about ("summarize my
   * week"), as GET /v1/narratives shows it: its sections' sentences and figures.
   */
  narrative?: SummaryData;
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
  readonly code: EnclaveErrorCode;

  constructor(code: EnclaveErrorCode, message: string = code) {
    super(message);
    this.code = code;
  }
}

// Inferred, so the module type-checks against both workerd's and Node's WebCrypto declarations.
type KeyPair = Awaited<ReturnType<CipherSuite["kem"]["generateKeyPair"]>>;
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

let suite: CipherSuite | undefined;
function hpke(): CipherSuite {
  suite ??= new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  return suite;
}

/** First 8 bytes of SHA-256 over the raw public key: names the key a query was sealed to. */
export async function keyIdOf(publicKey: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey.slice())).slice(0, KEY_ID_BYTES);
}

export function encodeMessage(kind: number, body: Uint8Array): Uint8Array {
  const message = new Uint8Array(1 + body.byteLength);
  message[0] = kind;
  message.set(body, 1);
  return message;
}

export function decodeMessage(message: Uint8Array): { kind: number; body: Uint8Array } {
  const kind = message[0];
  if (kind === undefined) throw new ProtocolError("BAD_MESSAGE", "empty message");
  return { kind, body: message.subarray(1) };
}

export function attestRequest(nonce: Uint8Array): Uint8Array {
  if (nonce.byteLength === 0 || nonce.byteLength > MAX_NONCE_BYTES) throw new ProtocolError("BAD_NONCE");
  return encodeMessage(MessageKind.ATTEST, nonce);
}

export function errorMessage(code: EnclaveErrorCode): Uint8Array {
  return encodeMessage(MessageKind.ERROR, new TextEncoder().encode(code));
}

/** The error code of an ERROR message; anything unrecognised reads as BAD_MESSAGE. */
export function errorCodeOf(body: Uint8Array): EnclaveErrorCode {
  const text = new TextDecoder().decode(body);
  return (ENCLAVE_ERRORS as readonly string[]).includes(text) ? (text as EnclaveErrorCode) : "BAD_MESSAGE";
}

// --- The Worker's side ---------------------------------------------------------------------------

export interface SealedQuery {
  /** The QUERY message to send. */
  readonly message: Uint8Array;
  /** Opens the enclave's ANSWER body; refuses anything not sealed under this query's context. */
  openAnswer(body: Uint8Array): Promise<SealedAnswer>;
}

/**
 * Seals a query to an attested enclave key. The caller verifies the attestation first; this only
 * checks that the key is an X25519 public key at all (Nitro's sample documents carry 1024 bytes of
 * filler in `public_key`, which must never be mistaken for a key).
 */
export async function sealQuery(publicKey: Uint8Array, query: EnclaveQuery): Promise<SealedQuery> {
  if (publicKey.byteLength !== X25519_PUBLIC_KEY_BYTES)
    throw new ProtocolError("UNKNOWN_KEY", "attested public_key is not an X25519 key");
  const keyId = await keyIdOf(publicKey);
  // A low-order point (all zeros, say) fails the Diffie-Hellman step: as unusable as a wrong length.
  const sender = await hpke()
    .kem.deserializePublicKey(publicKey.slice().buffer)
    .then((recipientPublicKey) => hpke().createSenderContext({ recipientPublicKey, info: INFO }))
    .catch(() => {
      throw new ProtocolError("UNKNOWN_KEY", "attested public_key is not a usable X25519 key");
    });
  const plaintext = new TextEncoder().encode(JSON.stringify(query));
  let ciphertext: ArrayBuffer;
  try {
    ciphertext = await sender.seal(plaintext.buffer, keyId.slice().buffer);
  } finally {
    plaintext.fill(0);
  }
  const enc = new Uint8Array(sender.enc);
  const body = new Uint8Array(KEY_ID_BYTES + ENC_BYTES + ciphertext.byteLength);
  body.set(keyId);
  body.set(enc, KEY_ID_BYTES);
  body.set(new Uint8Array(ciphertext), KEY_ID_BYTES + ENC_BYTES);
  const answerKey = await exportAnswerKey(sender);
  return {
    message: encodeMessage(MessageKind.QUERY, body),
    async openAnswer(answerBody) {
      let opened: ArrayBuffer;
      try {
        opened = await crypto.subtle.decrypt({ name: "AES-GCM", iv: answerKey.nonce }, answerKey.key, new Uint8Array(answerBody));
      } catch {
        throw new ProtocolError("DECRYPT_FAILED", "answer does not open under this query's context");
      }
      const bytes = new Uint8Array(opened);
      try {
        return parseAnswer(new TextDecoder().decode(bytes));
      } finally {
        bytes.fill(0);
      }
    },
  };
}

// --- The enclave's side --------------------------------------------------------------------------

/** The enclave's ephemeral HPKE key pair: generated at start, never exported, gone at exit. */
export class EnclaveKeys {
  readonly publicKey: Uint8Array;
  readonly keyId: Uint8Array;
  readonly #pair: KeyPair;

  private constructor(pair: KeyPair, publicKey: Uint8Array, keyId: Uint8Array) {
    this.#pair = pair;
    this.publicKey = publicKey;
    this.keyId = keyId;
  }

  static async generate(): Promise<EnclaveKeys> {
    const pair = await hpke().kem.generateKeyPair();
    const publicKey = new Uint8Array(await hpke().kem.serializePublicKey(pair.publicKey));
    return new EnclaveKeys(pair, publicKey, await keyIdOf(publicKey));
  }

  /**
   * Opens a QUERY body. `use` sees the query and returns the answer, which is sealed back under the
   * same context. The decrypted bytes are zeroed as soon as they are parsed, the answer's bytes as
   * soon as they are sealed.
   */
  async answer(body: Uint8Array, use: (query: EnclaveQuery) => Promise<SealedAnswer>): Promise<Uint8Array> {
    if (body.byteLength < KEY_ID_BYTES + ENC_BYTES + 16) throw new ProtocolError("BAD_MESSAGE", "query too short");
    const keyId = body.subarray(0, KEY_ID_BYTES);
    if (!equalBytes(keyId, this.keyId)) throw new ProtocolError("UNKNOWN_KEY");
    const enc = body.slice(KEY_ID_BYTES, KEY_ID_BYTES + ENC_BYTES);
    const recipient = await hpke()
      .createRecipientContext({ recipientKey: this.#pair, enc: enc.buffer, info: INFO })
      .catch(() => {
        throw new ProtocolError("DECRYPT_FAILED");
      });
    let plaintext: Uint8Array;
    try {
      plaintext = new Uint8Array(await recipient.open(body.slice(KEY_ID_BYTES + ENC_BYTES).buffer, keyId.slice().buffer));
    } catch {
      throw new ProtocolError("DECRYPT_FAILED");
    }
    let query: EnclaveQuery;
    try {
      query = parseQuery(new TextDecoder().decode(plaintext));
    } finally {
      plaintext.fill(0);
    }
    const answer = await use(query);
    const answerKey = await exportAnswerKey(recipient);
    const bytes = new TextEncoder().encode(JSON.stringify(answer));
    try {
      const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: answerKey.nonce }, answerKey.key, bytes);
      return encodeMessage(MessageKind.ANSWER, new Uint8Array(sealed));
    } finally {
      bytes.fill(0);
    }
  }
}

// --- Shared --------------------------------------------------------------------------------------

interface Exporter {
  export(exporterContext: ArrayBuffer, length: number): Promise<ArrayBuffer>;
}

async function exportAnswerKey(context: Exporter): Promise<{ key: AesKey; nonce: Uint8Array<ArrayBuffer> }> {
  const secret = await context.export(ANSWER_KEY_LABEL.slice().buffer, 32);
  const nonce = new Uint8Array(await context.export(ANSWER_NONCE_LABEL.slice().buffer, AES_GCM_NONCE_BYTES));
  const key = await crypto.subtle.importKey("raw", secret, "AES-GCM", false, ["encrypt", "decrypt"]);
  new Uint8Array(secret).fill(0);
  return { key, nonce };
}

/** Expands the wire columns into the analyst's series of ISO instants. */
export function toAnalystData(wire: WireDataset): AnalystData {
  const metrics: AnalystData["metrics"] = {};
  for (const [code, series] of Object.entries(wire.metrics)) {
    metrics[code] = {
      unit: series.unit,
      points: series.value.map((value, index) => ({
        start: new Date(series.start[index] ?? 0).toISOString(),
        end: new Date(series.end[index] ?? 0).toISOString(),
        value,
      })),
    };
  }
  const data: AnalystData = { metrics };
  if (wire.narrative !== undefined) data.narrative = wire.narrative;
  if (wire.sleep !== undefined) {
    data.sleep = wire.sleep.map((session) => ({
      start: new Date(session.start).toISOString(),
      end: new Date(session.end).toISOString(),
      stages: session.stages.map((stage) => ({
        stage: stage.stage,
        start: new Date(stage.start).toISOString(),
        end: new Date(stage.end).toISOString(),
      })),
    }));
  }
  return data;
}

const EPOCH_MS_MAX = 8.64e15;

function parseQuery(text: string): EnclaveQuery {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError("BAD_QUERY");
  }
  if (!isRecord(value) || typeof value.question !== "string" || typeof value.now !== "string" || !isRecord(value.data)) {
    throw new ProtocolError("BAD_QUERY");
  }
  if (Number.isNaN(Date.parse(value.now)) || !isRecord(value.data.metrics)) throw new ProtocolError("BAD_QUERY");
  const metrics: Record<string, WireSeries> = {};
  for (const [code, series] of Object.entries(value.data.metrics)) {
    if (!isRecord(series) || typeof series.unit !== "string") throw new ProtocolError("BAD_QUERY");
    const { start, end, value: values } = series;
    if (!isNumberArray(start) || !isNumberArray(end) || !isNumberArray(values)) throw new ProtocolError("BAD_QUERY");
    if (start.length !== values.length || end.length !== values.length) throw new ProtocolError("BAD_QUERY");
    if (!start.every(isInstant) || !end.every(isInstant)) throw new ProtocolError("BAD_QUERY");
    metrics[code] = { unit: series.unit, start, end, value: values };
  }
  const query: EnclaveQuery = { question: value.question, now: value.now, data: { metrics } };
  if (value.timeZone !== undefined) {
    if (typeof value.timeZone !== "string" || !isTimeZone(value.timeZone)) throw new ProtocolError("BAD_QUERY");
    query.timeZone = value.timeZone;
  }
  if (value.attestationSha256 !== undefined) {
    if (typeof value.attestationSha256 !== "string" || !/^[0-9a-f]{64}$/.test(value.attestationSha256)) {
      throw new ProtocolError("BAD_QUERY");
    }
    query.attestationSha256 = value.attestationSha256;
  }
  if (value.data.sleep !== undefined) query.data.sleep = parseSleep(value.data.sleep);
  if (value.data.narrative !== undefined) query.data.narrative = parseNarrative(value.data.narrative);
  return query;
}

/**
 * Bounds on a narrative: six domains of a few sentences each in practice; these limits are far
 * above that and only stop a malformed query from making the analyst build a huge answer.
 */
export const NARRATIVE_LIMITS = {
  sections: 12,
  sentences: 40,
  figures: 80,
  /** Characters of one sentence, title, label, code or unit. */
  text: 2_000,
  noData: 12,
} as const;

function isText(value: unknown): value is string {
  return typeof value === "string" && value.length <= NARRATIVE_LIMITS.text;
}

/**
 * The fields of a narrative that travel to the enclave and that the receipt's data digest covers,
 * and nothing else (a stored narrative's id or generation time are not part of what was summarized).
 */
export function summaryFields(narrative: SummaryData): SummaryData {
  return {
    period: narrative.period,
    date: narrative.date,
    endDate: narrative.endDate,
    timeZone: narrative.timeZone,
    sections: narrative.sections.map((section) => ({
      domain: section.domain,
      title: section.title,
      sentences: [...section.sentences],
      figures: section.figures.map((figure) => ({
        code: figure.code,
        label: figure.label,
        value: figure.value,
        unit: figure.unit,
      })),
    })),
    noData: [...narrative.noData],
  };
}

function parseNarrative(value: unknown): SummaryData {
  if (
    !isRecord(value) ||
    (value.period !== "day" && value.period !== "week") ||
    typeof value.date !== "string" ||
    !/^\d{4}-\d{2}-\d{2}$/.test(value.date) ||
    typeof value.endDate !== "string" ||
    !/^\d{4}-\d{2}-\d{2}$/.test(value.endDate) ||
    typeof value.timeZone !== "string" ||
    !isTimeZone(value.timeZone) ||
    !Array.isArray(value.sections) ||
    value.sections.length > NARRATIVE_LIMITS.sections ||
    !isStringArray(value.noData) ||
    value.noData.length > NARRATIVE_LIMITS.noData ||
    !value.noData.every(isText)
  ) {
    throw new ProtocolError("BAD_QUERY");
  }
  const sections = value.sections.map((section: unknown): SummarySection => {
    if (
      !isRecord(section) ||
      !isText(section.domain) ||
      !isText(section.title) ||
      !isStringArray(section.sentences) ||
      section.sentences.length > NARRATIVE_LIMITS.sentences ||
      !section.sentences.every(isText) ||
      !Array.isArray(section.figures) ||
      section.figures.length > NARRATIVE_LIMITS.figures
    ) {
      throw new ProtocolError("BAD_QUERY");
    }
    const figures = section.figures.map((figure: unknown) => {
      if (
        !isRecord(figure) ||
        !isText(figure.code) ||
        !isText(figure.label) ||
        !isText(figure.unit) ||
        !(figure.value === null || (typeof figure.value === "number" && Number.isFinite(figure.value)))
      ) {
        throw new ProtocolError("BAD_QUERY");
      }
      return { code: figure.code, label: figure.label, value: figure.value, unit: figure.unit };
    });
    return { domain: section.domain, title: section.title, sentences: [...section.sentences], figures };
  });
  return {
    period: value.period,
    date: value.date,
    endDate: value.endDate,
    timeZone: value.timeZone,
    sections,
    noData: [...value.noData],
  };
}

function parseSleep(value: unknown): WireSleepSession[] {
  if (!Array.isArray(value)) throw new ProtocolError("BAD_QUERY");
  return value.map((session: unknown) => {
    if (!isRecord(session) || !isInstant(session.start) || !isInstant(session.end) || !Array.isArray(session.stages)) {
      throw new ProtocolError("BAD_QUERY");
    }
    const stages = session.stages.map((stage: unknown) => {
      if (!isRecord(stage) || typeof stage.stage !== "string" || !isInstant(stage.start) || !isInstant(stage.end)) {
        throw new ProtocolError("BAD_QUERY");
      }
      return { stage: stage.stage, start: stage.start, end: stage.end };
    });
    return { start: session.start, end: session.end, stages };
  });
}

function parseAnswer(text: string): SealedAnswer {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError("BAD_MESSAGE", "answer is not JSON");
  }
  if (
    !isRecord(value) ||
    typeof value.answer !== "string" ||
    !isStringArray(value.usedMetrics) ||
    !Array.isArray(value.figures)
  ) {
    throw new ProtocolError("BAD_MESSAGE", "answer has the wrong shape");
  }
  const figures: Figure[] = value.figures.map((figure: unknown) => {
    if (
      !isRecord(figure) ||
      typeof figure.label !== "string" ||
      typeof figure.value !== "number" ||
      typeof figure.unit !== "string"
    ) {
      throw new ProtocolError("BAD_MESSAGE", "answer has the wrong shape");
    }
    return { label: figure.label, value: figure.value, unit: figure.unit };
  });
  const answer: SealedAnswer = { answer: value.answer, usedMetrics: value.usedMetrics, figures };
  if (value.receipt !== undefined) {
    if (!isRecord(value.receipt)) throw new ProtocolError("BAD_MESSAGE", "answer has the wrong shape");
    answer.receipt = value.receipt;
  }
  return answer;
}

/**
 * JSON with every object's keys sorted (arrays keep their order), so both ends hash the same bytes
 * for the same value however it was built: what receipts' data and answer digests are taken over.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 in lower-case hex. */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes.slice();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  if (/^[+-](\d{2}):([0-5]\d)$/.test(name)) return Number(name.slice(1, 3)) <= 18;
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === "number" && Number.isFinite(item));
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function isInstant(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= EPOCH_MS_MAX;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
