/**
 * What an enclave says about itself in its attestation document's `user_data` (DESIGN §9): the key
 * that signs its answer receipts and the model that answers. The Nitro Security Module signs
 * `user_data` with the rest of the document, so a verifier that checks the document also knows,
 * from the same signature, which receipt key and which model this enclave image was started with —
 * including whether that model sees plaintext outside attested hardware (`confidential: false`).
 *
 * Encoded as compact JSON (at most 512 bytes, the NSM's limit). Runs in workerd and in Node.
 */
import { MAX_USER_DATA_BYTES } from "./nsm/nsm.ts";

/**
 * - `analyst`: the built-in deterministic analyst, inside the enclave.
 * - `llama`: open weights run by the enclave itself; `id` names the weights by their SHA-256.
 * - `remote-attested`: a model outside the enclave whose own attestation the enclave verified
 *   against pinned measurements before sending it anything.
 * - `remote`: a model outside the enclave that nothing attests; plaintext reaches its operator.
 */
export const MODEL_KINDS = ["analyst", "llama", "remote-attested", "remote"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export interface ModelIdentity {
  /** e.g. `pulse-analyst@4`, `gguf-sha256:<64 hex>`, `openai:<model>@<measurement digest>`. */
  readonly id: string;
  readonly kind: ModelKind;
  /** False only for `remote`: the question and data leave attested hardware. */
  readonly confidential: boolean;
}

export interface EnclaveIdentity {
  readonly v: 1;
  /** The receipt-signing public key: ECDSA P-256, uncompressed point (65 bytes), base64url. */
  readonly receiptKey: string;
  readonly model: ModelIdentity;
}

const MAX_MODEL_ID_CHARS = 200;

export function encodeEnclaveIdentity(identity: EnclaveIdentity): Uint8Array {
  const problem = identityProblem(identity);
  if (problem !== null) throw new TypeError(`enclave identity: ${problem}`);
  const bytes = new TextEncoder().encode(
    JSON.stringify({ v: identity.v, receiptKey: identity.receiptKey, model: identity.model }),
  );
  if (bytes.byteLength > MAX_USER_DATA_BYTES) throw new RangeError("enclave identity exceeds user_data's 512 bytes");
  return bytes;
}

/** The identity carried in `user_data`, or null when it is absent or not one. */
export function decodeEnclaveIdentity(bytes: Uint8Array | null | undefined): EnclaveIdentity | null {
  if (bytes === null || bytes === undefined || bytes.byteLength === 0 || bytes.byteLength > MAX_USER_DATA_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  const model = record.model as Record<string, unknown> | null | undefined;
  if (typeof model !== "object" || model === null) return null;
  const identity = {
    v: record.v,
    receiptKey: record.receiptKey,
    model: { id: model.id, kind: model.kind, confidential: model.confidential },
  } as EnclaveIdentity;
  return identityProblem(identity) === null ? identity : null;
}

function identityProblem(identity: EnclaveIdentity): string | null {
  if (identity.v !== 1) return "unknown version";
  if (typeof identity.receiptKey !== "string" || !/^[A-Za-z0-9_-]{87}$/.test(identity.receiptKey)) {
    return "receiptKey must be a 65-byte P-256 point, base64url";
  }
  const { id, kind, confidential } = identity.model;
  if (typeof id !== "string" || id === "" || id.length > MAX_MODEL_ID_CHARS) return "model id must be 1-200 characters";
  if (!(MODEL_KINDS as readonly unknown[]).includes(kind)) return "unknown model kind";
  if (typeof confidential !== "boolean") return "model confidential must be a boolean";
  // Only a remote model nothing attests sees plaintext outside attested hardware; no other claim is allowed.
  if (confidential !== (kind !== "remote")) return "only a remote, unattested model is non-confidential";
  return null;
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}
