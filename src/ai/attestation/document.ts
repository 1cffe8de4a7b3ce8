// The attestation document payload, field by field as the AWS Nitro Enclaves attestation process
// specifies it (aws/aws-nitro-enclaves-nsm-api docs/attestation_process.md, "Attestation document
// specification"). Anything outside the specified shape is an encoding failure.
import { type CborValue, decodeCbor } from "../../../enclave-bridge/src/cbor.ts";

export interface AttestationPayload {
  readonly moduleId: string;
  readonly digest: "SHA384";
  /** Milliseconds since the Unix epoch, as the NSM writes it. */
  readonly timestamp: number;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly certificate: Uint8Array;
  /** Root first, as the spec orders it; empty when a document carries none. */
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
}

const PCR_LENGTHS = new Set([32, 48, 64]);
const MAX_OPTIONAL_FIELD = 1024;

export function parseAttestationPayload(bytes: Uint8Array): AttestationPayload {
  const map = decodeCbor(bytes);
  if (!(map instanceof Map)) throw new Error("attestation payload must be a map");
  const moduleId = map.get("module_id");
  const digest = map.get("digest");
  const timestamp = map.get("timestamp");
  const certificate = map.get("certificate");
  if (typeof moduleId !== "string" || moduleId.length === 0) throw new Error("module_id missing");
  if (digest !== "SHA384") throw new Error("digest must be SHA384");
  if (typeof timestamp !== "number" || timestamp <= 0) throw new Error("timestamp missing");
  if (!(certificate instanceof Uint8Array) || certificate.length === 0) throw new Error("certificate missing");
  return {
    moduleId,
    digest,
    timestamp,
    pcrs: parsePcrs(map.get("pcrs")),
    certificate,
    cabundle: parseCabundle(map.get("cabundle")),
    publicKey: optionalBytes(map.get("public_key")),
    userData: optionalBytes(map.get("user_data")),
    nonce: optionalBytes(map.get("nonce")),
  };
}

function parsePcrs(value: CborValue): Map<number, Uint8Array> {
  if (!(value instanceof Map) || value.size < 1 || value.size > 32) throw new Error("pcrs must be a map of 1-32");
  const pcrs = new Map<number, Uint8Array>();
  for (const [index, pcr] of value) {
    if (typeof index !== "number" || index < 0 || index > 31) throw new Error("PCR index out of range");
    if (!(pcr instanceof Uint8Array) || !PCR_LENGTHS.has(pcr.length)) throw new Error("PCR value length");
    pcrs.set(index, pcr);
  }
  // PCR0-2 identify the image, kernel and application; a document without them attests nothing.
  if (![0, 1, 2].every((index) => pcrs.has(index))) throw new Error("PCR0-2 missing");
  return pcrs;
}

function parseCabundle(value: CborValue): Uint8Array[] {
  // A missing bundle is structurally readable; the chain check then refuses it as untrusted.
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new Error("cabundle must be an array");
  return value.map((cert) => {
    if (!(cert instanceof Uint8Array) || cert.length === 0) throw new Error("cabundle entries must be certificates");
    return cert;
  });
}

function optionalBytes(value: CborValue): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Uint8Array) || value.length > MAX_OPTIONAL_FIELD) throw new Error("optional field");
  return value;
}
