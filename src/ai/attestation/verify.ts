// Verifies an AWS Nitro Enclaves attestation document before anything is sealed to its public key
// (DESIGN §9). Checks run from structure to policy; each failure carries one distinct reason code.
import type { X509Certificate } from "@peculiar/x509";
import { type PinnedRoot, verifyChain } from "./chain";
import { parseCoseSign1, verifyCoseSign1 } from "./cose";
import { type AttestationPayload, parseAttestationPayload } from "./document";

export type AttestationFailureReason =
  | "BAD_ENCODING"
  | "BAD_SIGNATURE"
  | "BAD_CHAIN"
  | "UNTRUSTED_ROOT"
  | "DEBUG_MODE"
  | "PCR_MISMATCH"
  | "NONCE_MISMATCH"
  | "STALE";

export interface VerifiedAttestation {
  readonly moduleId: string;
  readonly timestamp: Date;
  readonly digest: "SHA384";
  /** Every PCR in the document, lower-case hex by index. */
  readonly pcrs: Readonly<Record<number, string>>;
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
  /** Leaf first, then intermediates, ending at the pinned root. */
  readonly certificateChain: readonly X509Certificate[];
  /** Time the leaf certificate expires: a cache of this verification must not outlive it. */
  readonly validUntil: Date;
}

export type AttestationResult =
  | { readonly ok: true; readonly attestation: VerifiedAttestation }
  | { readonly ok: false; readonly reason: AttestationFailureReason; readonly detail: string };

export interface VerifyAttestationOptions {
  readonly root: PinnedRoot;
  /** PCR0 (enclave image), PCR1 (kernel and bootstrap), PCR2 (application), as hex. */
  readonly expectedPcrs?: { readonly 0?: string; readonly 1?: string; readonly 2?: string };
  /** The nonce this caller asked the enclave to embed; the document must carry exactly it. */
  readonly nonce?: Uint8Array;
  readonly maxAgeMs: number;
  readonly now: Date;
  /** Tolerated clock difference for documents dated slightly in the future. */
  readonly clockSkewMs?: number;
}

const DEFAULT_CLOCK_SKEW_MS = 60_000;
const DEBUG_PCRS = [0, 1, 2] as const;

export async function verifyAttestation(document: Uint8Array, options: VerifyAttestationOptions): Promise<AttestationResult> {
  let payload: AttestationPayload;
  let message: ReturnType<typeof parseCoseSign1>;
  try {
    message = parseCoseSign1(document);
    payload = parseAttestationPayload(message.payload);
  } catch (error) {
    return fail("BAD_ENCODING", error instanceof Error ? error.message : "malformed document");
  }

  const timestamp = new Date(payload.timestamp);
  const chain = await verifyChain(options.root, payload.cabundle, payload.certificate, timestamp);
  if (!("leaf" in chain)) return fail(chain.reason, chain.detail);

  const key = await chain.leaf.publicKey.export({ name: "ECDSA", namedCurve: "P-384" }, ["verify"]).catch(() => null);
  if (key === null) return fail("BAD_CHAIN", "leaf key is not a P-384 key");
  if (!(await verifyCoseSign1(message, key))) return fail("BAD_SIGNATURE", "COSE_Sign1 signature does not verify");

  const pcrs = Object.fromEntries([...payload.pcrs].map(([index, value]) => [index, toHex(value)]));
  // A debug-mode enclave reports PCR0-2 as zeros (AWS Nitro Enclaves, "Where to get an enclave's
  // measurements"): its memory can be inspected from the parent instance, so it proves nothing.
  if (DEBUG_PCRS.every((index) => isZero(payload.pcrs.get(index)))) {
    return fail("DEBUG_MODE", "PCR0-2 are zero: enclave runs in debug mode");
  }
  for (const index of DEBUG_PCRS) {
    const expected = options.expectedPcrs?.[index];
    if (expected !== undefined && pcrs[index] !== expected.toLowerCase()) {
      return fail("PCR_MISMATCH", `PCR${index} differs from the pinned value`);
    }
  }
  if (options.nonce !== undefined && (payload.nonce === null || !equalBytes(payload.nonce, options.nonce))) {
    return fail("NONCE_MISMATCH", "document nonce differs from the requested nonce");
  }
  const age = options.now.getTime() - payload.timestamp;
  if (age > options.maxAgeMs) return fail("STALE", "document older than the maximum age");
  if (-age > (options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS)) return fail("STALE", "document dated in the future");

  const intermediates = chain.path.slice(0, -1).reverse();
  return {
    ok: true,
    attestation: {
      moduleId: payload.moduleId,
      timestamp,
      digest: payload.digest,
      pcrs,
      publicKey: payload.publicKey,
      userData: payload.userData,
      nonce: payload.nonce,
      certificateChain: [chain.leaf, ...intermediates, options.root.certificate],
      validUntil: chain.leaf.notAfter,
    },
  };
}

function fail(reason: AttestationFailureReason, detail: string): AttestationResult {
  return { ok: false, reason, detail };
}

function isZero(bytes: Uint8Array | undefined): boolean {
  return bytes?.every((byte) => byte === 0) === true;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
