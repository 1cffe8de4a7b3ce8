// The enclave's view of the Nitro Security Module (DESIGN §9). In a Nitro Enclave the NSM is the
// /dev/nsm device, driven through ioctl by the aws-nitro-enclaves-nsm-api library (Attestation and
// DescribePCR requests); locally, SimulatedNsm produces documents in the same format.

export interface AttestationRequest {
  /** The enclave's HPKE public key; the Worker seals to it only after verification. */
  readonly publicKey?: Uint8Array;
  readonly userData?: Uint8Array;
  /** The verifier's nonce, echoed in the document so it cannot be replayed. */
  readonly nonce?: Uint8Array;
}

/** PCR0 (enclave image), PCR1 (kernel and boot ramfs), PCR2 (application), lower-case hex. */
export interface PcrDescription {
  readonly 0: string;
  readonly 1: string;
  readonly 2: string;
}

export interface Nsm {
  /** A COSE_Sign1 attestation document (AWS Nitro Enclaves attestation document specification). */
  getAttestationDocument(request: AttestationRequest): Promise<Uint8Array>;
  describePcrs(): Promise<PcrDescription>;
}

/** Field sizes from the attestation document specification (aws-nitro-enclaves-nsm-api). */
export const MAX_PUBLIC_KEY_BYTES = 1024;
export const MAX_USER_DATA_BYTES = 512;
export const MAX_NONCE_BYTES = 512;
