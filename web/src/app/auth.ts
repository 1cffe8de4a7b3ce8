/**
 * Passkey ceremonies against /v1/auth/* with @simplewebauthn/browser (the counterpart of the
 * server's @simplewebauthn/server): it converts the JSON options and credentials and offers
 * conditional UI, where the browser lists this site's passkeys in the username field's autofill.
 */
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from "@simplewebauthn/browser";
import { type ApiClient, ProblemError, type Tokens } from "./api.ts";

interface Ceremony<T> {
  flowId: string;
  options: T;
}

interface SignedIn extends Tokens {
  recoveryCodes?: string[];
}

export function passkeysSupported(): boolean {
  return browserSupportsWebAuthn();
}

/** Registers a new account with a passkey; returns the recovery codes, shown once. */
export async function register(api: ApiClient, username: string, displayName: string): Promise<string[]> {
  const ceremony = await api.anonymous<Ceremony<PublicKeyCredentialCreationOptionsJSON>>("POST", "/v1/auth/register/options", {
    body: displayName === "" ? { username } : { username, displayName },
  });
  const response = await startRegistration({ optionsJSON: ceremony.options });
  const body = await api.anonymous<SignedIn>("POST", "/v1/auth/register/verify", {
    body: { flowId: ceremony.flowId, response },
  });
  api.setTokens(body);
  return body.recoveryCodes ?? [];
}

/**
 * Signs in from the button. Without a username the options name no credentials and the
 * authenticator offers its own discoverable passkeys for this site (WebAuthn L3 §6.4.3).
 */
export async function signIn(api: ApiClient, username: string): Promise<void> {
  const ceremony = await api.anonymous<Ceremony<PublicKeyCredentialRequestOptionsJSON>>("POST", "/v1/auth/login/options", {
    body: username === "" ? {} : { username },
  });
  const response = await startAuthentication({ optionsJSON: ceremony.options });
  api.setTokens(await api.anonymous<Tokens>("POST", "/v1/auth/login/verify", { body: { flowId: ceremony.flowId, response } }));
}

/** The pending autofill offer, if any; a button's ceremony cancels it (`cancelAutofill`). */
let offered: { cancelled: boolean } | null = null;

/**
 * Starts conditional UI when the browser has it: the username field's suggestions list this site's
 * passkeys, and picking one signs in. Resolves once signed in through autofill, never otherwise. A
 * new offer replaces a pending one.
 */
export async function offerAutofillSignIn(api: ApiClient, onSignedIn: () => void): Promise<void> {
  cancelAutofill();
  const offer = { cancelled: false };
  offered = offer;
  try {
    if (!(await browserSupportsWebAuthnAutofill()) || offer.cancelled) return;
    const ceremony = await api.anonymous<Ceremony<PublicKeyCredentialRequestOptionsJSON>>("POST", "/v1/auth/login/options", {
      body: {},
    });
    // Cancelled while its options were on their way: starting now would abort the button's
    // ceremony that cancelled it (a new WebAuthn request ends the pending one).
    if (offer.cancelled) return;
    const response = await startAuthentication({ optionsJSON: ceremony.options, useBrowserAutofill: true });
    const tokens = await api.anonymous<Tokens>("POST", "/v1/auth/login/verify", { body: { flowId: ceremony.flowId, response } });
    if (offer.cancelled) return;
    api.setTokens(tokens);
    onSignedIn();
  } catch {
    // Cancelled by a button's ceremony or by leaving the page: the forms remain.
  } finally {
    if (offered === offer) offered = null;
  }
}

/** Ends a pending autofill offer, so a button's ceremony can start; none pending, nothing happens. */
export function cancelAutofill(): void {
  if (offered === null) return;
  offered.cancelled = true;
  offered = null;
  WebAuthnAbortService.cancelCeremony();
}

/** Ends the session on the server; the local tokens go whatever the server says. */
export async function signOut(api: ApiClient): Promise<void> {
  try {
    await api.request("POST", "/v1/auth/logout");
  } finally {
    api.clear();
  }
}

/** What went wrong, in words a person can act on. */
export function explain(error: unknown): string {
  if (error instanceof ProblemError) return error.message;
  const name = error instanceof Error ? error.name : "";
  switch (name) {
    case "NotAllowedError":
      return "The passkey request was cancelled or timed out.";
    case "InvalidStateError":
      return "This device already holds a passkey for this account.";
    case "SecurityError":
      return "Passkeys are not allowed on this address. Open Pulse at http://localhost with its port.";
    case "AbortError":
      return "The request was cancelled.";
    default:
      return error instanceof Error && error.message !== "" ? error.message : "Something went wrong.";
  }
}
