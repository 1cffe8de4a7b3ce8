import type { AnalystAnswer, AnalystInput } from "../analyst/types.ts";
import type { ModelIdentity } from "../identity.ts";

/**
 * A model the enclave can ask (DESIGN §9). It receives the decrypted question and the data the
 * Worker selected, and answers with the metrics and figures it used. Implementations run inside the
 * enclave: they must not log, persist or echo the input, and their errors must not carry it.
 */
export interface ModelProvider {
  /** Shown in logs and in `GET /v1/ai/attestation`, never with any input. */
  readonly name: string;
  /**
   * What the attestation document's user_data says answers (identity.ts). A provider whose model
   * runs outside the enclave and is not attested must say `kind: "remote", confidential: false`.
   */
  readonly identity: ModelIdentity;
  answer(input: AnalystInput, options?: { signal?: AbortSignal }): Promise<AnalystAnswer>;
}

/** Thrown by a provider for a failure it can name without quoting the input. */
export class ModelError extends Error {
  override name = "ModelError";
}
