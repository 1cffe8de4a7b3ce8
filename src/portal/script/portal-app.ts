/**
 * Browser code (plain ES2022, shipped as text inside /portal/app.js, after webauthn-json): the
 * ceremonies against /v1/auth/*, the account from /v1/me, and the page state. Tokens live in the
 * `tokens` variable only, never in localStorage, sessionStorage or cookies: an injected script
 * cannot find them later, and a reload signs the person out. Server text reaches the page through
 * `textContent` only. Kept free of backticks and `${` because it lives in a template literal.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw keeps the backslashes of any regex this browser code gains later.
export const PORTAL_APP_SCRIPT = String.raw`
const $ = (id) => document.getElementById(id);
let tokens = null;

class ProblemError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// problem+json (RFC 9457) carries a human-readable "detail"; show it as the server wrote it.
const api = async (method, path, { body, accessToken } = {}) => {
  const headers = { Accept: "application/json, application/problem+json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accessToken) headers.Authorization = "Bearer " + accessToken;
  const res = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return null;
  const data = /json/.test(res.headers.get("Content-Type") || "") ? await res.json().catch(() => null) : null;
  if (!res.ok) throw new ProblemError((data && (data.detail || data.title)) || "The server answered " + res.status + ".", res.status);
  return data;
};

// An access token lives 15 minutes; past that, one refresh (which rotates the refresh token) and a retry.
const authorized = async (method, path, body) => {
  if (!tokens) throw new ProblemError("You are not signed in.", 401);
  try {
    return await api(method, path, { body, accessToken: tokens.accessToken });
  } catch (error) {
    if (!(error instanceof ProblemError) || error.status !== 401 || !tokens || !tokens.refreshToken) throw error;
    const fresh = await api("POST", "/v1/auth/refresh", { body: { refreshToken: tokens.refreshToken } }).catch(() => null);
    if (!fresh) throw error;
    tokens = { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken };
    return api(method, path, { body, accessToken: tokens.accessToken });
  }
};

const explain = (error) => {
  if (error instanceof ProblemError) return error.message;
  switch (error && error.name) {
    case "NotAllowedError":
      return "The passkey request was cancelled or timed out.";
    case "InvalidStateError":
      return "This device already holds a passkey for this account.";
    case "SecurityError":
      return "Passkeys are not allowed on this address. Open the portal at http://localhost with its port.";
    case "TypeError":
      return "Pulse could not be reached. Check that the server is running.";
    default:
      return (error && error.message) || "Something went wrong.";
  }
};

const setProblem = (text) => {
  $("problem").textContent = text || "";
  $("problem").hidden = !text;
};

const setBusy = (text) => {
  $("status").textContent = text || "";
  for (const button of document.querySelectorAll("button")) button.disabled = Boolean(text);
  document.querySelector("main").setAttribute("aria-busy", text ? "true" : "false");
};

const run = async (label, task) => {
  setProblem("");
  setBusy(label);
  try {
    await task();
  } catch (error) {
    setProblem(explain(error));
  } finally {
    setBusy("");
  }
};

const showRecoveryCodes = (codes) => {
  $("recovery-codes").replaceChildren(...codes.map((code) => {
    const item = document.createElement("li");
    item.textContent = code;
    return item;
  }));
  $("recovery").hidden = codes.length === 0;
};

const showAccount = (me) => {
  $("greeting").textContent = "Signed in as " + me.displayName + " (@" + me.username + ")";
  $("account-role").textContent = me.role;
  $("account-created").textContent = new Date(me.createdAt).toLocaleDateString(undefined, { dateStyle: "long" });
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  $("greeting").focus();
};

const showAnswer = (result) => {
  $("answer-text").textContent = result ? result.answer : "";
  $("answer-proof").textContent = result
    ? "Computed inside the enclave image with PCR0 " + result.attestation.pcr0.slice(0, 16) + "…, attested " +
      new Date(result.attestation.verifiedAt).toLocaleString() + ". Data used: " +
      (result.usedMetrics.length > 0 ? result.usedMetrics.join(", ").replace(/_/g, " ") : "none") + "."
    : "";
  $("answer").hidden = !result;
};

// The question goes to the API and nowhere else; the answer reaches the page through textContent.
const ask = async () => {
  const question = $("ask-question").value.trim();
  showAnswer(null);
  showAnswer(await authorized("POST", "/v1/ai/query", { question }));
};

const showSignedOut = () => {
  tokens = null;
  showRecoveryCodes([]);
  showAnswer(null);
  $("ask-form").reset();
  $("greeting").textContent = "";
  $("signed-in").hidden = true;
  $("signed-out").hidden = false;
};

const signedIn = async (body, recoveryCodes) => {
  tokens = { accessToken: body.accessToken, refreshToken: body.refreshToken };
  try {
    showAccount(await authorized("GET", "/v1/me"));
  } catch (error) {
    tokens = null;
    throw error;
  }
  showRecoveryCodes(recoveryCodes);
  $("register-form").reset();
  $("login-form").reset();
};

const register = async () => {
  const username = $("register-username").value.trim();
  const displayName = $("register-display-name").value.trim();
  const ceremony = await api("POST", "/v1/auth/register/options", { body: displayName ? { username, displayName } : { username } });
  const credential = await navigator.credentials.create({ publicKey: creationOptions(ceremony.options) });
  if (!credential) throw new Error("No passkey was created.");
  const body = await api("POST", "/v1/auth/register/verify", { body: { flowId: ceremony.flowId, response: registrationJSON(credential) } });
  await signedIn(body, Array.isArray(body.recoveryCodes) ? body.recoveryCodes : []);
};

// Without a username the options list no credentials, and the authenticator offers its own
// discoverable passkeys for this site (WebAuthn L3 §6.4.3).
const signIn = async () => {
  const username = $("login-username").value.trim();
  const ceremony = await api("POST", "/v1/auth/login/options", { body: username ? { username } : {} });
  const credential = await navigator.credentials.get({ publicKey: requestOptions(ceremony.options) });
  if (!credential) throw new Error("No passkey was chosen.");
  const body = await api("POST", "/v1/auth/login/verify", { body: { flowId: ceremony.flowId, response: authenticationJSON(credential) } });
  await signedIn(body, []);
};

// The local tokens go whatever the server says; a failure to end the server session is still reported.
const signOut = async () => {
  try {
    await authorized("POST", "/v1/auth/logout");
  } finally {
    showSignedOut();
  }
};

let accountDeleted = false;

// Deleting needs the passkey again (a token alone never deletes); the options allow only this
// account's passkeys. Every session ends on the server at once, so the page signs out too.
const deleteAccount = async () => {
  if (!window.confirm("Delete your account and all of your data? This cannot be undone.")) return;
  const ceremony = await authorized("POST", "/v1/me/deletion/options");
  const credential = await navigator.credentials.get({ publicKey: requestOptions(ceremony.options) });
  if (!credential) throw new Error("No passkey was chosen.");
  await authorized("POST", "/v1/me/deletion/verify", { flowId: ceremony.flowId, response: authenticationJSON(credential) });
  showSignedOut();
  accountDeleted = true;
};

const start = () => {
  $("register-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("Waiting for your passkey…", register);
  });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("Waiting for your passkey…", signIn);
  });
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("Asking the enclave…", ask);
  });
  $("sign-out").addEventListener("click", () => run("Signing out…", signOut));
  $("delete-account").addEventListener("click", async () => {
    await run("Waiting for your passkey…", deleteAccount);
    if (accountDeleted) $("status").textContent = "Your account is deleted; your data is being erased.";
  });
  $("recovery-done").addEventListener("click", () => showRecoveryCodes([]));
  if (!window.PublicKeyCredential || !navigator.credentials) {
    setProblem("This browser does not support passkeys.");
    for (const button of $("signed-out").querySelectorAll("button")) button.disabled = true;
  }
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
`;
