export { AttestationCache, type CachedAttestation } from "./cache";
export { loadPinnedRoot, type PinnedRoot } from "./chain";
export {
  type AttestationFailureReason,
  type AttestationResult,
  type VerifiedAttestation,
  type VerifyAttestationOptions,
  verifyAttestation,
} from "./verify";
