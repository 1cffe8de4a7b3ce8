/**
 * The Worker's check of an answer's receipt (DESIGN §9, enclave-bridge/src/receipt.ts), before the
 * answer is returned: the signature under the receipt key of the attestation document the Worker
 * verified, every digest recomputed from what the Worker sent and received (the narrative too), the
 * instant and time zone the question was read in, the pinned PCRs, that document's SHA-256, its
 * model, and a time near the Worker's clock. Anything else is refused as
 * 502 ENCLAVE_FAILED with reason BAD_RECEIPT, and no answer leaves the Worker.
 */
import type { EnclaveIdentity } from "../../enclave-bridge/src/identity.ts";
import type { EnclaveQuery, SealedAnswer } from "../../enclave-bridge/src/protocol.ts";
import { type AnswerReceipt, DEFAULT_RECEIPT_SKEW_MS, verifyReceipt } from "../../enclave-bridge/src/receipt.ts";
import { DomainError } from "../errors/domain-error";

export interface ReceiptContext {
  /** The query exactly as sealed: its question, data and `attestationSha256`. */
  readonly query: EnclaveQuery;
  /** What the verified attestation document's user_data names. */
  readonly identity: EnclaveIdentity;
  /** The PCRs this deployment pins (ENCLAVE_PCR0..2). */
  readonly pcrs: { readonly 0: string; readonly 1: string; readonly 2: string };
  readonly now: Date;
}

export interface CheckedReceipt {
  readonly receipt: AnswerReceipt;
  /** SHA-256 (hex) of the signed claims' bytes followed by the signature's 64 bytes. */
  readonly sha256: string;
}

/** Enclave and Worker clocks are both NTP-disciplined; minutes of slack cover a slow model too. */
export const RECEIPT_MAX_SKEW_MS = DEFAULT_RECEIPT_SKEW_MS;

export async function checkAnswerReceipt(answer: SealedAnswer, context: ReceiptContext): Promise<CheckedReceipt> {
  const { query, identity } = context;
  const result = await verifyReceipt(answer.receipt, {
    receiptKey: identity.receiptKey,
    ...(query.attestationSha256 === undefined ? {} : { attestationSha256: query.attestationSha256 }),
    pcrs: context.pcrs,
    model: identity.model,
    question: query.question,
    context: { asOf: new Date(query.now).toISOString(), timeZone: query.timeZone ?? "UTC" },
    data: query.data,
    answer: { answer: answer.answer, usedMetrics: answer.usedMetrics, figures: answer.figures },
    now: context.now,
    maxSkewMs: RECEIPT_MAX_SKEW_MS,
  });
  // Without the document's digest there is nothing to tie the receipt to: refused like a mismatch.
  if (!result.ok || query.attestationSha256 === undefined) {
    const check = result.ok ? "attestation" : result.check;
    throw new DomainError("ENCLAVE_FAILED", `The enclave's answer receipt does not verify (${check})`, {
      extensions: { reason: "BAD_RECEIPT", check },
    });
  }
  return { receipt: result.receipt, sha256: result.sha256 };
}
