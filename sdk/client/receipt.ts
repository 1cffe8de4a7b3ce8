/**
 * Offline verification of an answer from `POST /v1/ai/query` (docs/confidential-ai.md, "Receipts"):
 * the attestation document it carries is checked against a pinned root (AWS Nitro root G1 unless
 * another is given) and pinned PCR0–2, the receipt's signature under the key that document's
 * user_data names, and every claim the answer lets one recompute. Runs wherever WebCrypto does
 * (browsers, Node, workerd); `npm run verify-receipt` is this function on the command line.
 *
 *   const result = await verifyAnswerReceipt(answer, { pcrs: { 0: "…", 1: "…", 2: "…" }, question });
 *   if (!result.ok) console.error(`${result.check}: ${result.detail}`);
 *
 * Nitro leaf certificates live a few hours, so the certificate chain is checked at the document's
 * own timestamp (signed by the Nitro Security Module), not at the time of verification: a receipt
 * kept for a year still verifies, and one whose chain was not valid when it was made never does.
 */
import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { decodeEnclaveIdentity, type ModelIdentity } from "../../enclave-bridge/src/identity.ts";
import { sha256Hex } from "../../enclave-bridge/src/protocol.ts";
import { type ReceiptCheck, verifyReceipt } from "../../enclave-bridge/src/receipt.ts";
import { loadPinnedRoot, type PinnedRoot, verifyAttestation } from "../../src/ai/attestation";
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from "../../src/ai/attestation/aws-root";

export interface VerifyAnswerReceiptOptions {
  /** The trust anchor, PEM or DER; AWS Nitro root G1 when absent. */
  root?: string | Uint8Array;
  /** The root's SHA-256 (hex) when you pin it by fingerprint too; checked against `root`. */
  rootSha256?: string;
  /** The enclave image's PCR0–2 you trust (hex, SHA-384). */
  pcrs: { 0: string; 1: string; 2: string };
  /** The question as sent (trimmed); its hash is then checked too. */
  question?: string;
}

/** The checks, in order; the first that fails is named. */
export type AnswerReceiptCheck = "format" | "root" | "document" | "sha256" | ReceiptCheck;

export type AnswerReceiptVerification =
  | {
      ok: true;
      model: ModelIdentity;
      /** When the enclave signed (its clock), ISO 8601. */
      time: string;
      /** The instant and time zone the question's "last week", "yesterday" or "on Monday" were read in (signed). */
      asOf: string;
      timeZone: string;
      pcrs: { 0: string; 1: string; 2: string };
      /** The attestation document's own timestamp and the Nitro module that signed it. */
      attestedAt: string;
      moduleId: string;
      rootSha256: string;
      receiptSha256: string;
      questionChecked: boolean;
      checked: AnswerReceiptCheck[];
    }
  | { ok: false; check: AnswerReceiptCheck; detail: string };

interface AnswerWithReceipt {
  answer: string;
  usedMetrics: string[];
  figures: { label: string; value: number; unit: string }[];
  model?: unknown;
  attestation?: unknown;
  receipt: { payload: unknown; signature: unknown; attestationDocument: string; sha256: string };
}

/** Verifies an answer of `POST /v1/ai/query` (the parsed JSON) and its receipt, offline. */
export async function verifyAnswerReceipt(
  answer: unknown,
  options: VerifyAnswerReceiptOptions,
): Promise<AnswerReceiptVerification> {
  if (!isAnswer(answer)) return fail("format", "not an answer of POST /v1/ai/query with a receipt");
  const document = fromBase64(answer.receipt.attestationDocument);
  if (document === null) return fail("format", "receipt.attestationDocument is not base64");

  let root: PinnedRoot;
  try {
    root = await pinnedRoot(options);
  } catch (error) {
    return fail("root", error instanceof Error ? error.message : "the pinned root does not load");
  }

  // `now` far ahead and no age limit: the chain is checked at the document's timestamp, which is
  // what an offline check can rely on; the receipt's own time is checked against it below.
  const attested = await verifyAttestation(document, {
    root,
    expectedPcrs: options.pcrs,
    maxAgeMs: Number.POSITIVE_INFINITY,
    now: new Date(8.64e15),
  });
  if (!attested.ok) {
    return fail(attested.reason === "PCR_MISMATCH" ? "pcrs" : "document", `${attested.reason}: ${attested.detail}`);
  }
  const identity = decodeEnclaveIdentity(attested.attestation.userData);
  if (identity === null) return fail("document", "the attestation document's user_data names no receipt key");
  const checked: AnswerReceiptCheck[] = ["format", "root", "document", "pcrs"];

  const receipt = { payload: answer.receipt.payload, signature: answer.receipt.signature };
  const result = await verifyReceipt(receipt, {
    receiptKey: identity.receiptKey,
    attestationSha256: await sha256Hex(document),
    pcrs: options.pcrs,
    model: identity.model,
    ...(options.question === undefined ? {} : { question: options.question }),
    answer: { answer: answer.answer, usedMetrics: answer.usedMetrics, figures: answer.figures },
    notBefore: attested.attestation.timestamp,
  });
  if (!result.ok) return fail(result.check, result.detail);
  checked.push(...result.checked.filter((check) => !checked.includes(check)));

  const claims = result.receipt.payload;
  // What the answer says beside the signed fields must agree with them.
  if (answer.model !== undefined && !sameModel(answer.model, claims.model)) {
    return fail("model", "the answer's model differs from the one the enclave signed");
  }
  const pcr0 = isRecord(answer.attestation) ? answer.attestation.pcr0 : undefined;
  if (pcr0 !== undefined && pcr0 !== claims.pcrs[0])
    return fail("pcrs", "the answer's attestation.pcr0 differs from the signed PCR0");
  if (answer.receipt.sha256.toLowerCase() !== result.sha256) return fail("sha256", "receipt.sha256 is not the receipt's hash");
  checked.push("sha256");

  return {
    ok: true,
    model: claims.model,
    time: claims.time,
    asOf: claims.asOf,
    timeZone: claims.timeZone,
    pcrs: claims.pcrs,
    attestedAt: attested.attestation.timestamp.toISOString(),
    moduleId: attested.attestation.moduleId,
    rootSha256: root.sha256,
    receiptSha256: result.sha256,
    questionChecked: options.question !== undefined,
    checked,
  };
}

async function pinnedRoot(options: VerifyAnswerReceiptOptions): Promise<PinnedRoot> {
  if (options.root === undefined) return loadPinnedRoot(AWS_NITRO_ROOT_G1_PEM, options.rootSha256 ?? AWS_NITRO_ROOT_G1_SHA256);
  const source = typeof options.root === "string" ? options.root : options.root.slice();
  const sha256 = options.rootSha256 ?? (await sha256Hex(new Uint8Array(new X509Certificate(source).rawData)));
  return loadPinnedRoot(source, sha256);
}

function fail(check: AnswerReceiptCheck, detail: string): AnswerReceiptVerification {
  return { ok: false, check, detail };
}

function isAnswer(value: unknown): value is AnswerWithReceipt {
  if (!isRecord(value) || typeof value.answer !== "string") return false;
  if (!Array.isArray(value.usedMetrics) || !value.usedMetrics.every((item) => typeof item === "string")) return false;
  const figuresOk =
    Array.isArray(value.figures) &&
    value.figures.every(
      (f) => isRecord(f) && typeof f.label === "string" && typeof f.value === "number" && typeof f.unit === "string",
    );
  const receipt = value.receipt;
  return (
    figuresOk &&
    isRecord(receipt) &&
    typeof receipt.attestationDocument === "string" &&
    typeof receipt.sha256 === "string" &&
    "payload" in receipt &&
    "signature" in receipt
  );
}

function sameModel(value: unknown, model: ModelIdentity): boolean {
  return isRecord(value) && value.id === model.id && value.kind === model.kind && value.confidential === model.confidential;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fromBase64(text: string): Uint8Array | null {
  if (text.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
