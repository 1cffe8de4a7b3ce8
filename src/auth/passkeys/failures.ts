import { AppError } from "../../http/errors";

/**
 * One answer for every failed ceremony, whatever failed: unknown, expired, reused or foreign flow,
 * wrong origin, RP ID or challenge, missing user verification, bad signature, counter regression,
 * unknown credential. Which one it was goes to the audit trail, never to the caller.
 */
const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="pulse"' };

export function signInFailed(): AppError {
  return new AppError("UNAUTHENTICATED", "Sign-in failed.", { headers: CHALLENGE });
}

export function registrationFailed(): AppError {
  return new AppError("UNAUTHENTICATED", "Passkey registration failed.", { headers: CHALLENGE });
}

/** Adding a passkey to a signed-in account: the caller is authenticated, the ceremony was bad. */
export function addPasskeyFailed(): AppError {
  return new AppError("BAD_REQUEST", "The passkey could not be verified; start again.");
}
