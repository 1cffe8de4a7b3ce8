/**
 * Answer receipts (DESIGN §9): the enclave signs, with the P-256 key whose public point its
 * attestation document's user_data names (identity.ts), a statement of what it answered — digests
 * of the question, of the data it was given and of its answer, the model, its PCR0–2, the digest of
 * the attestation document the Worker verified, and the time. Anyone holding the answer, the
 * receipt and that document can check, offline, that this attested image with this model answered
 * exactly this; nobody without the enclave's key can produce one.
 *
 * Runs in the enclave (Node), the Worker (workerd), the SDK and the CLI: WebCrypto only.
 *
 * Signed bytes: the UTF-8 of `canonicalJson(claims)` (protocol.ts: keys sorted, no whitespace).
 * Signature: ECDSA P-256 with SHA-256, IEEE P1363 (r ‖ s, 64 bytes), base64url.
 * Receipt hash (`receiptSha256`): SHA-256 of the signed bytes followed by the 64 signature bytes.
 */
import type { AnalystAnswer } from "./analyst/types.ts";
import { base64url, fromBase64url, MODEL_KINDS, type ModelIdentity } from "./identity.ts";
import { canonicalJson, isTimeZone, sha256Hex, summaryFields, type WireDataset } from "./protocol.ts";

export interface ReceiptClaims {
  readonly v: 2;
  /** SHA-256 (hex) of the question's UTF-8, as the enclave received it (the API trims it first). */
  readonly questionSha256: string;
  /** SHA-256 (hex) of `canonicalJson` of the data the enclave received (`dataDigest`). */
  readonly dataSha256: string;
  /** SHA-256 (hex) of `canonicalJson({answer, usedMetrics, figures})` (`answerDigest`). */
  readonly answerSha256: string;
  readonly model: ModelIdentity;
  /** The enclave's PCR0–2 as its Nitro Security Module describes them, lower-case hex. */
  readonly pcrs: { readonly 0: string; readonly 1: string; readonly 2: string };
  /** SHA-256 (hex) of the attestation document the Worker verified before sealing the question. */
  readonly attestationSha256: string;
  /**
   * The query's `now`, ISO 8601 UTC with milliseconds: the instant "last week" or "yesterday" was
   * measured from. Verifiers require it within the allowed skew of `time`, so a query cannot be
   * answered as of another day.
   */
  readonly asOf: string;
  /** The time zone calendar words were read in, as the enclave received it ("UTC" when none was sent). */
  readonly timeZone: string;
  /** The enclave's clock when it signed, ISO 8601 UTC with milliseconds. */
  readonly time: string;
}

export interface AnswerReceipt {
  readonly payload: ReceiptClaims;
  /** ECDSA P-256/SHA-256, r ‖ s (64 bytes), base64url. */
  readonly signature: string;
}

/** The checks of `verifyReceipt`, in the order they run. */
export const RECEIPT_CHECKS = [
  "format",
  "signature",
  "attestation",
  "pcrs",
  "model",
  "question",
  "context",
  "data",
  "answer",
  "time",
] as const;
export type ReceiptCheck = (typeof RECEIPT_CHECKS)[number];

export type ReceiptVerification =
  | { readonly ok: true; readonly receipt: AnswerReceipt; readonly sha256: string; readonly checked: readonly ReceiptCheck[] }
  | { readonly ok: false; readonly check: ReceiptCheck; readonly detail: string };

/** What a verifier knows independently of the receipt; each check runs only when its value is given. */
export interface ReceiptExpectations {
  /** The enclave's receipt key from the verified document's user_data (P-256 point, base64url). */
  readonly receiptKey: string;
  readonly attestationSha256?: string;
  readonly pcrs?: { readonly 0: string; readonly 1: string; readonly 2: string };
  readonly model?: ModelIdentity;
  readonly question?: string;
  /** The query's `now` and time zone ("UTC" when none was sent), checked together as "context". */
  readonly context?: { readonly asOf: string; readonly timeZone: string };
  readonly data?: WireDataset;
  readonly answer?: AnalystAnswer;
  /**
   * With `now`: the receipt's time must be within `maxSkewMs` (default 5 minutes) of it. With `now`
   * or `notBefore`, `asOf` must also be within `maxSkewMs` of the receipt's time.
   */
  readonly now?: Date;
  readonly maxSkewMs?: number;
  /** The receipt may not be older than this instant minus the skew (e.g. the document's timestamp). */
  readonly notBefore?: Date;
}

export const DEFAULT_RECEIPT_SKEW_MS = 5 * 60_000;
const SIGNATURE_BYTES = 64;
const HEX64 = /^[0-9a-f]{64}$/;
const PCR_HEX = /^[0-9a-f]{96}$/;
const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" } as const;

// Inferred, so the module type-checks against both workerd's and Node's WebCrypto declarations.
type SigningKey = Parameters<typeof crypto.subtle.sign>[1];

export function questionDigest(question: string): Promise<string> {
  return sha256Hex(question);
}

/**
 * Digest of the data exactly as the enclave reads it: only the wire fields (a series' unit and its
 * three columns, sleep sessions and their stages, the narrative a summary reads with its sections'
 * sentences and figures), so a field the enclave ignores (the Worker's `resolution`, say) cannot
 * make the two ends disagree, and nothing the enclave answers from is left out.
 */
export function dataDigest(data: WireDataset): Promise<string> {
  const metrics = Object.fromEntries(
    Object.entries(data.metrics).map(([code, series]) => [
      code,
      { unit: series.unit, start: series.start, end: series.end, value: series.value },
    ]),
  );
  const sleep = data.sleep?.map((session) => ({
    start: session.start,
    end: session.end,
    stages: session.stages.map((stage) => ({ stage: stage.stage, start: stage.start, end: stage.end })),
  }));
  const narrative = data.narrative === undefined ? undefined : summaryFields(data.narrative);
  return sha256Hex(canonicalJson({ metrics, sleep, narrative }));
}

/** Digest of what a person is shown: the answer's text, the metrics used and the figures stated. */
export function answerDigest(answer: AnalystAnswer): Promise<string> {
  return sha256Hex(
    canonicalJson({
      answer: answer.answer,
      usedMetrics: answer.usedMetrics,
      figures: answer.figures.map((figure) => ({ label: figure.label, value: figure.value, unit: figure.unit })),
    }),
  );
}

function signedBytes(claims: ReceiptClaims): Uint8Array<ArrayBuffer> {
  // A copy on a plain ArrayBuffer, as WebCrypto's declarations in workerd and Node both accept.
  return new TextEncoder().encode(canonicalJson(claims)).slice();
}

export async function signReceipt(claims: ReceiptClaims, privateKey: SigningKey): Promise<AnswerReceipt> {
  const problem = claimsProblem(claims);
  if (problem !== null) throw new TypeError(`receipt claims: ${problem}`);
  const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, privateKey, signedBytes(claims)));
  return { payload: claims, signature: base64url(signature) };
}

/** The receipt's hash: what the person's access log records for the answer. */
export function receiptSha256(receipt: AnswerReceipt): Promise<string> {
  const claims = signedBytes(receipt.payload);
  const signature = fromBase64url(receipt.signature);
  const bytes = new Uint8Array(claims.byteLength + signature.byteLength);
  bytes.set(claims);
  bytes.set(signature, claims.byteLength);
  return sha256Hex(bytes);
}

/** A receipt of exactly the expected shape, or null: nothing else is signed or verified. */
export function parseReceipt(value: unknown): AnswerReceipt | null {
  if (!isRecord(value) || !hasExactly(value, ["payload", "signature"])) return null;
  const { payload, signature } = value;
  if (typeof signature !== "string" || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return null;
  if (!isRecord(payload)) return null;
  const claims = payload as unknown as ReceiptClaims;
  if (claimsProblem(claims) !== null) return null;
  const { model, pcrs } = claims;
  return {
    payload: {
      v: 2,
      questionSha256: claims.questionSha256,
      dataSha256: claims.dataSha256,
      answerSha256: claims.answerSha256,
      model: { id: model.id, kind: model.kind, confidential: model.confidential },
      pcrs: { 0: pcrs[0], 1: pcrs[1], 2: pcrs[2] },
      attestationSha256: claims.attestationSha256,
      asOf: claims.asOf,
      timeZone: claims.timeZone,
      time: claims.time,
    },
    signature,
  };
}

/**
 * Verifies a receipt: its shape, its signature under `receiptKey`, then each claim against what the
 * caller knows. The first check that fails is named; the claims are trusted only when all pass.
 */
export async function verifyReceipt(value: unknown, expected: ReceiptExpectations): Promise<ReceiptVerification> {
  const checked: ReceiptCheck[] = [];
  const receipt = parseReceipt(value);
  if (receipt === null) return fail("format", "the receipt is not a v2 receipt of the expected shape");
  checked.push("format");

  const key = await importReceiptKey(expected.receiptKey);
  const signature = fromBase64url(receipt.signature);
  const valid =
    key !== null &&
    signature.byteLength === SIGNATURE_BYTES &&
    (await crypto.subtle.verify(ECDSA_SHA256, key, signature.slice(), signedBytes(receipt.payload)).catch(() => false));
  if (!valid) return fail("signature", "the signature does not verify under the attested receipt key");
  checked.push("signature");

  const claims = receipt.payload;
  if (expected.attestationSha256 !== undefined) {
    if (claims.attestationSha256 !== expected.attestationSha256.toLowerCase()) {
      return fail("attestation", "the receipt names another attestation document");
    }
    checked.push("attestation");
  }
  if (expected.pcrs !== undefined) {
    const pins = expected.pcrs;
    const index = ([0, 1, 2] as const).find((i) => claims.pcrs[i] !== pins[i].toLowerCase());
    if (index !== undefined) return fail("pcrs", `PCR${index} in the receipt differs from the pinned value`);
    checked.push("pcrs");
  }
  if (expected.model !== undefined) {
    const { id, kind, confidential } = expected.model;
    if (claims.model.id !== id || claims.model.kind !== kind || claims.model.confidential !== confidential) {
      return fail("model", "the receipt names another model than the attestation document");
    }
    checked.push("model");
  }
  if (expected.question !== undefined) {
    if (claims.questionSha256 !== (await questionDigest(expected.question))) {
      return fail("question", "the receipt is for another question");
    }
    checked.push("question");
  }
  if (expected.context !== undefined) {
    if (claims.asOf !== expected.context.asOf || claims.timeZone !== expected.context.timeZone) {
      return fail("context", "the receipt reads the question as of another instant or in another time zone");
    }
    checked.push("context");
  }
  if (expected.data !== undefined) {
    if (claims.dataSha256 !== (await dataDigest(expected.data))) return fail("data", "the receipt is over other data");
    checked.push("data");
  }
  if (expected.answer !== undefined) {
    if (claims.answerSha256 !== (await answerDigest(expected.answer))) {
      return fail("answer", "the answer differs from the one the enclave signed");
    }
    checked.push("answer");
  }
  if (expected.now !== undefined || expected.notBefore !== undefined) {
    const time = Date.parse(claims.time);
    const skew = expected.maxSkewMs ?? DEFAULT_RECEIPT_SKEW_MS;
    if (expected.now !== undefined && Math.abs(time - expected.now.getTime()) > skew) {
      return fail("time", "the receipt's time is more than the allowed skew from the verifier's clock");
    }
    if (expected.notBefore !== undefined && time < expected.notBefore.getTime() - skew) {
      return fail("time", "the receipt is dated before its attestation document");
    }
    // "Last night" means the night before `asOf`: an answer as of another day is another answer.
    if (Math.abs(Date.parse(claims.asOf) - time) > skew) {
      return fail("time", "the question was read as of an instant far from when the enclave answered it");
    }
    checked.push("time");
  }
  return { ok: true, receipt, sha256: await receiptSha256(receipt), checked };
}

async function importReceiptKey(receiptKey: string): Promise<Parameters<typeof crypto.subtle.verify>[1] | null> {
  if (!/^[A-Za-z0-9_-]{87}$/.test(receiptKey)) return null;
  const point = fromBase64url(receiptKey);
  return crypto.subtle.importKey("raw", point.slice(), ECDSA_P256, false, ["verify"]).catch(() => null);
}

function fail(check: ReceiptCheck, detail: string): ReceiptVerification {
  return { ok: false, check, detail };
}

function claimsProblem(claims: ReceiptClaims): string | null {
  const record = claims as unknown as Record<string, unknown>;
  const keys = [
    "v",
    "questionSha256",
    "dataSha256",
    "answerSha256",
    "model",
    "pcrs",
    "attestationSha256",
    "asOf",
    "timeZone",
    "time",
  ];
  if (!hasExactly(record, keys)) return "unexpected or missing fields";
  if (claims.v !== 2) return "unknown version";
  for (const name of ["questionSha256", "dataSha256", "answerSha256", "attestationSha256"] as const) {
    if (typeof claims[name] !== "string" || !HEX64.test(claims[name])) return `${name} must be 64 lower-case hex digits`;
  }
  const model = claims.model as unknown;
  if (!isRecord(model) || !hasExactly(model, ["id", "kind", "confidential"])) return "model must be {id, kind, confidential}";
  if (typeof model.id !== "string" || model.id === "" || model.id.length > 200) return "model id must be 1-200 characters";
  if (!(MODEL_KINDS as readonly unknown[]).includes(model.kind) || typeof model.confidential !== "boolean") {
    return "model kind or confidential is invalid";
  }
  const pcrs = claims.pcrs as unknown;
  if (!isRecord(pcrs) || !hasExactly(pcrs, ["0", "1", "2"])) return "pcrs must be {0, 1, 2}";
  if (![pcrs[0], pcrs[1], pcrs[2]].every((pcr) => typeof pcr === "string" && PCR_HEX.test(pcr))) {
    return "each PCR must be 96 lower-case hex digits";
  }
  // One spelling of each instant, so the signed bytes are the ones any verifier rebuilds.
  for (const name of ["asOf", "time"] as const) {
    const value = claims[name] as unknown;
    if (typeof value !== "string" || Number.isNaN(Date.parse(value)) || new Date(value).toISOString() !== value) {
      return `${name} must be an instant in ISO 8601 UTC with milliseconds`;
    }
  }
  if (typeof claims.timeZone !== "string" || !isTimeZone(claims.timeZone)) {
    return "timeZone must be an IANA name, a ±HH:MM offset or UTC";
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasExactly(record: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(record);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(record, key));
}
