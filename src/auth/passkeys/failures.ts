import { DomainError } from "../../errors/domain-error";

/**
 * One answer for every failed ceremony, whatever failed: unknown, expired, reused or foreign flow,
 * wrong origin, RP ID or challenge, missing user verification, bad signature, counter regression,
 * unknown credential. Which one it was goes to the audit trail, never to the caller.
 */
export function signInFailed(): DomainError {
  return new DomainError("UNAUTHENTICATED", "Sign-in failed.");
}

export function registrationFailed(): DomainError {
  return new DomainError("UNAUTHENTICATED", "Passkey registration failed.");
}

/** Adding a passkey to a signed-in account: the caller is authenticated, the ceremony was bad. */
export function addPasskeyFailed(): DomainError {
  return new DomainError("BAD_REQUEST", "The passkey could not be verified; start again.");
}
