export { type CborMap, type CborValue, decodeCbor, encodeCbor } from "../cbor.ts";
export {
  type CertifiedKey,
  createDevelopmentRoot,
  exportDevelopmentRoot,
  importDevelopmentRoot,
  LEAF_LIFETIME_MS,
  type StoredDevelopmentRoot,
} from "./development-pki.ts";
export { NitroNsm, NitroNsmError, type NitroNsmOptions } from "./nitro-nsm.ts";
export {
  type AttestationRequest,
  MAX_NONCE_BYTES,
  MAX_PUBLIC_KEY_BYTES,
  MAX_USER_DATA_BYTES,
  type Nsm,
  type PcrDescription,
} from "./nsm.ts";
export { SimulatedNsm, type SimulatedNsmOptions } from "./simulated-nsm.ts";
