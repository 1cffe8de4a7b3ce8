/**
 * The WebAuthn calls into @simplewebauthn/server, with Pulse's policy in one place: user
 * verification required, discoverable credentials (so sign-in never needs a credential list and
 * cannot reveal whether a username exists), `none` attestation, ES256/EdDSA/RS256 keys, origins
 * from ./origins.ts. Verification failures come back as `undefined` (with a reason for the audit
 * trail), never as the library's messages, which are not meant for callers.
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import type { Config } from "../../config/config";
import { FLOW_TTL_MS } from "./flows";
import { expectedOrigins } from "./origins";

/** COSE algorithms offered and accepted: EdDSA, ES256, RS256 (RFC 9053, RFC 8812). */
const ALGORITHMS = [-8, -7, -257];

const KNOWN_TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

/** The WebAuthn user handle: the user id's UTF-8 bytes (random, no personal data; §14.6.1). */
export function userHandleOf(userId: string): string {
  return isoBase64URL.fromUTF8String(userId);
}

export interface CredentialRef {
  id: string;
  transports: string[];
}

export function registrationOptions(
  config: Config,
  user: { id: string; username: string; displayName: string },
  exclude: readonly CredentialRef[] = [],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: config.RP_NAME,
    rpID: config.RP_ID,
    userID: isoBase64URL.toBuffer(userHandleOf(user.id)),
    userName: user.username,
    userDisplayName: user.displayName,
    timeout: FLOW_TTL_MS,
    attestationType: "none",
    excludeCredentials: exclude.map((credential) => ({ id: credential.id, transports: credential.transports })),
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
    supportedAlgorithmIDs: ALGORITHMS,
  });
}

/** Always without allowCredentials: the same answer whoever asks (discoverable sign-in). */
export function authenticationOptions(config: Config): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: config.RP_ID,
    allowCredentials: [],
    userVerification: "required",
    timeout: FLOW_TTL_MS,
  });
}

/**
 * Re-authentication of a signed-in user (e.g. before deleting the account): only that user's
 * passkeys are allowed, so the authenticator offers no other account's credential.
 */
export function reauthenticationOptions(
  config: Config,
  credentials: readonly CredentialRef[],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: config.RP_ID,
    allowCredentials: credentials.map((credential) => ({ id: credential.id, transports: [...credential.transports] })),
    userVerification: "required",
    timeout: FLOW_TTL_MS,
  });
}

export interface NewCredential {
  id: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  backupEligible: boolean;
  backedUp: boolean;
}

export async function verifyRegistration(
  config: Config,
  challenge: string,
  response: RegistrationResponseJSON,
): Promise<NewCredential | undefined> {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: expectedOrigins(config, response.response.clientDataJSON),
      expectedRPID: config.RP_ID,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    if (!result.verified) return undefined;
    const info = result.registrationInfo;
    if (info.credential.id !== response.id) return undefined;
    return {
      id: info.credential.id,
      publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
      counter: info.credential.counter,
      transports: (response.response.transports ?? []).filter((transport) => KNOWN_TRANSPORTS.has(transport)),
      aaguid: info.aaguid,
      backupEligible: info.credentialDeviceType === "multiDevice",
      backedUp: info.credentialBackedUp,
    };
  } catch {
    return undefined;
  }
}

export interface StoredCredential {
  id: string;
  publicKey: string;
  counter: number;
  transports: string[];
}

export type AssertionResult =
  | { ok: true; counter: number; backedUp: boolean }
  | { ok: false; reason: "verification failed" | "counter regression" };

/**
 * Verifies an assertion. The signature counter is checked here rather than by the library, so a
 * regression is only reported for an otherwise valid, signed response: that is the signal of a
 * cloned authenticator (WebAuthn L3 §6.1.1, §7.2 step 22). A counter that stays 0 is an
 * authenticator without counters and is accepted; a non-zero one must strictly increase.
 */
export async function verifyAssertion(
  config: Config,
  challenge: string,
  response: AuthenticationResponseJSON,
  stored: StoredCredential,
): Promise<AssertionResult> {
  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: expectedOrigins(config, response.response.clientDataJSON),
      expectedRPID: config.RP_ID,
      requireUserVerification: true,
      // Counter 0 here turns the library's own counter rule off; it is applied below instead.
      credential: {
        id: stored.id,
        publicKey: isoBase64URL.toBuffer(stored.publicKey),
        counter: 0,
        transports: stored.transports,
      },
    });
  } catch {
    return { ok: false, reason: "verification failed" };
  }
  if (!result.verified) return { ok: false, reason: "verification failed" };
  const counter = result.authenticationInfo.newCounter;
  if ((counter > 0 || stored.counter > 0) && counter <= stored.counter) return { ok: false, reason: "counter regression" };
  return { ok: true, counter, backedUp: result.authenticationInfo.credentialBackedUp };
}
