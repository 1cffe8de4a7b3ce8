// COSE_Sign1 (RFC 9052 §4.2) as used by the Nitro Security Module: an (untagged or tag-18)
// array [protected bstr, unprotected map, payload bstr, signature bstr], ES384 only.
import { type CborValue, decodeCbor, encodeCbor, isTagged } from "../../../enclave-bridge/src/cbor.ts";

/** COSE algorithm identifier for ECDSA with SHA-384 (RFC 9053 §2.1). */
const ES384 = -35;
/** P-384 signature as raw r||s, 48 bytes each (RFC 9053 §2.1), not DER. */
const ES384_SIGNATURE_LENGTH = 96;

export interface CoseSign1 {
  readonly protectedHeader: Uint8Array;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

/** Throws (CborError or Error) when the bytes are not an ES384 COSE_Sign1. */
export function parseCoseSign1(bytes: Uint8Array): CoseSign1 {
  let value: CborValue = decodeCbor(bytes);
  // The shared decoder accepts no tag but COSE_Sign1's.
  if (isTagged(value)) value = value.value;
  if (!Array.isArray(value) || value.length !== 4) throw new Error("COSE_Sign1 must be a 4-element array");
  const [protectedHeader, , payload, signature] = value;
  // The unprotected header (index 1) is not covered by the signature, so nothing is read from it.
  if (!(protectedHeader instanceof Uint8Array) || !(payload instanceof Uint8Array)) {
    throw new Error("COSE_Sign1 protected header and payload must be byte strings");
  }
  if (!(signature instanceof Uint8Array) || signature.length !== ES384_SIGNATURE_LENGTH) {
    throw new Error("COSE_Sign1 signature must be a 96-byte ES384 signature");
  }
  const header = decodeCbor(protectedHeader);
  if (!(header instanceof Map) || header.get(1) !== ES384) throw new Error("COSE_Sign1 algorithm must be ES384");
  return { protectedHeader, payload, signature };
}

/** Verifies the signature over Sig_structure ["Signature1", protected, external_aad = h'', payload] (RFC 9052 §4.4). */
export async function verifyCoseSign1(message: CoseSign1, key: CryptoKey): Promise<boolean> {
  const toBeSigned = encodeCbor(["Signature1", message.protectedHeader, new Uint8Array(0), message.payload]);
  // Copies on plain ArrayBuffers, as both workerd's and the DOM's WebCrypto declarations accept.
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-384" }, key, message.signature.slice(), toBeSigned.slice());
}
