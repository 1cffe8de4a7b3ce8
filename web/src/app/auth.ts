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
 * Signs in. Without a username the options name no credentials and the authenticator offers its
 * own discoverable passkeys for this site (WebAuthn L3 §6.4.3); `autofill` waits for the person to
 * pick one from the username field's suggestions instead of opening a dialog.
 */
export async function signIn(api: ApiClient, username: string, autofill = false): Promise<void> {
  const ceremony = await api.anonymous<Ceremony<PublicKeyCredentialRequestOptionsJSON>>("POST", "/v1/auth/login/options", {
    body: username === "" ? {} : { username },
  });
  const response = await startAuthentication({ optionsJSON: ceremony.options, useBrowserAutofill: autofill });
  api.setTokens(await api.anonymous<Tokens>("POST", "/v1/auth/login/verify", { body: { flowId: ceremony.flowId, response } }));
}

/** Starts conditional UI when the browser has it; resolves once signed in through autofill, never otherwise. */
export async function offerAutofillSignIn(api: ApiClient, onSignedIn: () => void): Promise<void> {
  if (!(await browserSupportsWebAuthnAutofill())) return;
  try {
    await signIn(api, "", true);
    onSignedIn();
  } catch {
    // Cancelled by a modal ceremony or by leaving the page: the forms remain.
  }
}

/** Ends a pending autofill request, so a button's ceremony can start. */
export function cancelAutofill(): void {
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
