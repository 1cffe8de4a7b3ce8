/**
 * Browser code (plain ES2022, shipped as text inside /portal/app.js): the JSON forms of WebAuthn
 * options and credentials that @simplewebauthn/server speaks, converted by hand (no library, no
 * `PublicKeyCredential.parseCreationOptionsFromJSON`, which not every browser has). Binary fields
 * travel as base64url without padding (WebAuthn L3 §5.1.8, RFC 4648 §5). The credential objects
 * carry exactly the members of RegistrationResponseJSON / AuthenticationResponseJSON that the
 * server reads. Kept free of backticks and `${` because it lives in a template literal.
 */
export const WEBAUTHN_JSON_SCRIPT = String.raw`
const toBase64url = (buffer) => {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

// "===".slice(...) restores the padding atob needs: none, "==" or "=" for lengths 0, 2, 3 mod 4.
const fromBase64url = (text) => {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
};

const descriptor = (json) => ({ ...json, id: fromBase64url(json.id) });

const creationOptions = (json) => ({
  ...json,
  challenge: fromBase64url(json.challenge),
  user: { ...json.user, id: fromBase64url(json.user.id) },
  excludeCredentials: (json.excludeCredentials || []).map(descriptor),
});

const requestOptions = (json) => ({
  ...json,
  challenge: fromBase64url(json.challenge),
  allowCredentials: (json.allowCredentials || []).map(descriptor),
});

const registrationJSON = (credential) => {
  const response = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      attestationObject: toBase64url(response.attestationObject),
      transports: typeof response.getTransports === "function" ? response.getTransports() : [],
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
  };
};

const authenticationJSON = (credential) => {
  const response = credential.response;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : undefined,
    },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
};
`;
