/**
 * The sandbox's OAuth 2.0 authorization server, as strict as a careful provider:
 * - RFC 6749 authorization-code grant with a consent page; a wrong `client_id` or a `redirect_uri`
 *   outside the registered prefix is answered with an error page, never a redirect (§4.1.2.1), and
 *   so is a request without PKCE S256: the sandbox is a public-client-grade server (RFC 7636,
 *   RFC 9700 §2.1.1 "PKCE required", `plain` refused).
 * - Codes live 60 seconds and are single use; redeeming one twice revokes the tokens the first
 *   redemption issued (RFC 6749 §4.1.2).
 * - Refresh tokens rotate: each refresh returns a new one and retires the old; presenting a
 *   retired one revokes the whole family (RFC 9700 §4.14.2, refresh token rotation).
 * - Client authentication is HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1), as the
 *   registry entry says; revocation per RFC 7009.
 */
import { isTimeZone, SCOPE_DATA_TYPES } from "./data.ts";
import { base64url, escapeHtml, oauthError, page, randomToken, readForm, safeEqual, sha256Hex } from "./http.ts";
import type { SandboxState } from "./state.ts";

const CODE_SECONDS = 60;
const CONSENT_SECONDS = 10 * 60;
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;
const DEFAULT_TIME_ZONE = "Europe/Berlin";

const SCOPE_TEXT: Record<string, string> = {
  heart_rate: "Heart rate, heart-rate variability and glucose readings",
  sleep: "Sleep sessions and sleep stages",
  workouts: "Workouts and step counts",
};

/** `GET /oauth/authorize`: checks the request, then shows the consent page. */
export function authorize(state: SandboxState, url: URL): Response {
  const q = url.searchParams;
  const { clientId, redirectUriPrefix, appName } = state.options;
  const clientIdParam = q.get("client_id");
  if (clientIdParam === null || !safeEqual(clientIdParam, clientId)) {
    return errorPage("Unknown application", "The client_id is not registered with the sandbox provider.");
  }
  const redirectUri = q.get("redirect_uri");
  if (redirectUri === null || !redirectAllowed(redirectUri, redirectUriPrefix)) {
    return errorPage("Redirect URI not registered", "The redirect_uri is not one this application registered.");
  }
  const challenge = q.get("code_challenge");
  if (q.get("code_challenge_method") !== "S256" || challenge === null || !CHALLENGE.test(challenge)) {
    return errorPage("PKCE required", "This provider requires PKCE with code_challenge_method=S256 (RFC 7636).");
  }
  const stateParam = q.get("state") ?? "";
  if (q.get("response_type") !== "code") return redirectError(redirectUri, stateParam, "unsupported_response_type");
  if (stateParam === "") return redirectError(redirectUri, stateParam, "invalid_request");
  const scopes = (q.get("scope") ?? "").split(" ").filter((scope) => scope.length > 0);
  if (scopes.length === 0 || scopes.some((scope) => !(scope in SCOPE_DATA_TYPES))) {
    return redirectError(redirectUri, stateParam, "invalid_scope");
  }

  forgetExpired(state);
  const consentId = randomToken("sbx_consent");
  state.consents.set(consentId, {
    redirectUri,
    state: stateParam,
    scopes: [...new Set(scopes)],
    codeChallenge: challenge,
    expiresAt: state.options.now() + CONSENT_SECONDS * 1000,
  });
  const items = scopes.map((scope) => `<li>${escapeHtml(SCOPE_TEXT[scope] ?? scope)} <code>${escapeHtml(scope)}</code></li>`);
  return page(
    "Pulse sandbox provider",
    `<p><strong>${escapeHtml(appName)}</strong> wants to read this sandbox account's generated health data:</p>
<ul>${items.join("")}</ul>
<p>After you choose, you return to <code>${escapeHtml(new URL(redirectUri).origin)}</code>.</p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="consent" value="${escapeHtml(consentId)}">
<label>Sandbox account <input name="account" value="demo" maxlength="64" required></label>
<label>Time zone <input name="time_zone" value="${DEFAULT_TIME_ZONE}" maxlength="64" required></label>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
    200,
    // Checked against the registered prefix above: the only place the answer redirects to.
    new URL(redirectUri).origin,
  );
}

/** `POST /oauth/authorize`: the consent form. Redirects with a code, or with `access_denied`. */
export async function decide(state: SandboxState, request: Request): Promise<Response> {
  const form = await readForm(request);
  const consentId = form?.get("consent") ?? "";
  const consent = state.consents.get(consentId);
  state.consents.delete(consentId);
  if (!form || !consent || consent.expiresAt <= state.options.now()) {
    return errorPage("Consent expired", "This consent page is no longer valid. Start connecting again from the app.");
  }
  if (form.get("decision") !== "approve") return redirectError(consent.redirectUri, consent.state, "access_denied");

  const name = (form.get("account") ?? "").trim();
  const timeZone = (form.get("time_zone") ?? DEFAULT_TIME_ZONE).trim();
  if (name.length === 0 || name.length > 64)
    return errorPage("Account name needed", "Name the sandbox account (1–64 characters).");
  if (!isTimeZone(timeZone)) return errorPage("Unknown time zone", "Use an IANA time zone such as Europe/Berlin.");
  const userId = `sbx_${(await sha256Hex(name)).slice(0, 20)}`;
  if (!state.accounts.has(userId)) {
    state.accounts.set(userId, {
      userId,
      name,
      timeZone,
      // The wearable last synced an hour ago: the first push brings that hour in.
      availableUntil: Math.floor(state.options.now() / 60_000) * 60_000 - 3_600_000,
      failures: { rateLimit: null, failNext: null },
    });
  }
  const code = randomToken("sbx_code");
  state.codes.set(code, {
    userId,
    redirectUri: consent.redirectUri,
    scopes: consent.scopes,
    codeChallenge: consent.codeChallenge,
    expiresAt: state.options.now() + CODE_SECONDS * 1000,
    familyId: null,
  });
  const target = new URL(consent.redirectUri);
  target.searchParams.set("code", code);
  target.searchParams.set("state", consent.state);
  return new Response(null, { status: 303, headers: { Location: target.href, "Cache-Control": "no-store" } });
}

/** `POST /oauth/token`: authorization_code and refresh_token grants. */
export async function token(state: SandboxState, request: Request): Promise<Response> {
  if (!clientAuthenticated(state, request)) {
    return oauthError("invalid_client", "Client authentication failed (HTTP Basic).", 401, {
      "WWW-Authenticate": 'Basic realm="sandbox"',
    });
  }
  const form = await readForm(request);
  if (!form) return oauthError("invalid_request", "The body must be application/x-www-form-urlencoded.");
  const grant = form.get("grant_type");
  if (grant === "authorization_code") return redeemCode(state, form);
  if (grant === "refresh_token") return rotateRefreshToken(state, form);
  return oauthError("unsupported_grant_type", "Use authorization_code or refresh_token.");
}

async function redeemCode(state: SandboxState, form: URLSearchParams): Promise<Response> {
  const value = form.get("code") ?? "";
  const code = state.codes.get(value);
  if (!code) return oauthError("invalid_grant", "The authorization code is unknown.");
  if (code.familyId !== null) {
    // A replayed code: whoever redeemed it first may not be the client (RFC 6749 §4.1.2).
    state.codes.delete(value);
    const family = state.families.get(code.familyId);
    if (family) family.revoked = true;
    return oauthError("invalid_grant", "The authorization code was already used.");
  }
  if (code.expiresAt <= state.options.now()) {
    state.codes.delete(value);
    return oauthError("invalid_grant", "The authorization code has expired.");
  }
  if (form.get("redirect_uri") !== code.redirectUri) {
    return oauthError("invalid_grant", "redirect_uri does not match the authorization request.");
  }
  const verifier = form.get("code_verifier") ?? "";
  const expected = VERIFIER.test(verifier) ? base64url(await sha256Bytes(verifier)) : "";
  if (!safeEqual(expected, code.codeChallenge)) {
    // A wrong verifier burns the code: it cannot be guessed at.
    state.codes.delete(value);
    return oauthError("invalid_grant", "The code_verifier does not match the code_challenge (RFC 7636 §4.6).");
  }
  const familyId = randomToken("sbx_family");
  code.familyId = familyId;
  state.families.set(familyId, {
    id: familyId,
    userId: code.userId,
    scopes: code.scopes,
    revoked: false,
    currentRefreshToken: "",
  });
  return issue(state, familyId);
}

function rotateRefreshToken(state: SandboxState, form: URLSearchParams): Response {
  const presented = form.get("refresh_token") ?? "";
  const familyId = state.refreshTokens.get(presented);
  const family = familyId === undefined ? undefined : state.families.get(familyId);
  if (!family || family.revoked) return oauthError("invalid_grant", "The refresh token is invalid or revoked.");
  if (!safeEqual(presented, family.currentRefreshToken)) {
    family.revoked = true;
    return oauthError("invalid_grant", "The refresh token was already rotated; the grant is revoked.");
  }
  return issue(state, family.id);
}

function issue(state: SandboxState, familyId: string): Response {
  const family = state.families.get(familyId);
  if (!family) return oauthError("invalid_grant", "The grant is gone.");
  const accessToken = randomToken("sbx_at");
  const refreshToken = randomToken("sbx_rt");
  const seconds = state.options.accessTokenSeconds;
  state.accessTokens.set(accessToken, { familyId, expiresAt: state.options.now() + seconds * 1000, revoked: false });
  state.refreshTokens.set(refreshToken, familyId);
  family.currentRefreshToken = refreshToken;
  return new Response(
    JSON.stringify({
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: seconds,
      refresh_token: refreshToken,
      scope: family.scopes.join(" "),
    }),
    { headers: { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" } },
  );
}

/** `POST /oauth/revoke` (RFC 7009): a refresh token revokes its family; unknown tokens are fine. */
export async function revoke(state: SandboxState, request: Request): Promise<Response> {
  if (!clientAuthenticated(state, request)) {
    return oauthError("invalid_client", "Client authentication failed (HTTP Basic).", 401, {
      "WWW-Authenticate": 'Basic realm="sandbox"',
    });
  }
  const form = await readForm(request);
  const value = form?.get("token");
  if (!value) return oauthError("invalid_request", "The token parameter is required.");
  const familyId = state.refreshTokens.get(value);
  if (familyId !== undefined) {
    const family = state.families.get(familyId);
    if (family) family.revoked = true;
  }
  const access = state.accessTokens.get(value);
  if (access) access.revoked = true;
  // RFC 7009 §2.2: 200 whether or not the token was known.
  return new Response(null, { status: 200, headers: { "Cache-Control": "no-store" } });
}

function clientAuthenticated(state: SandboxState, request: Request): boolean {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match?.[1]) return false;
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    return false;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  const idOk = safeEqual(id, state.options.clientId) || safeEqual(formDecode(id), state.options.clientId);
  const secretOk = safeEqual(secret, state.options.clientSecret) || safeEqual(formDecode(secret), state.options.clientSecret);
  return idOk && secretOk;
}

/** RFC 6749 §2.3.1 form-encodes id and secret before Basic; many clients do not. Both are accepted. */
function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

/**
 * Absolute, no fragment or credentials, and the registered callback itself or a path below it:
 * compared after URL normalisation, so neither `…/callback/../../evil` nor `…/callbackevil` passes.
 */
function redirectAllowed(candidate: string, prefix: string): boolean {
  if (!URL.canParse(candidate)) return false;
  const url = new URL(candidate);
  if (url.hash !== "" || url.username !== "" || url.password !== "" || !candidate.startsWith(prefix)) return false;
  const base = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  const target = `${url.origin}${url.pathname}`;
  return target === base || target.startsWith(`${base}/`);
}

async function sha256Bytes(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Consent pages and codes nobody came back for, so a long `npm run dev` does not accumulate them. */
function forgetExpired(state: SandboxState): void {
  const now = state.options.now();
  for (const [id, consent] of state.consents) if (consent.expiresAt <= now) state.consents.delete(id);
  for (const [id, code] of state.codes) if (code.expiresAt <= now && code.familyId === null) state.codes.delete(id);
}

function redirectError(redirectUri: string, stateParam: string, error: string): Response {
  const target = new URL(redirectUri);
  target.searchParams.set("error", error);
  if (stateParam !== "") target.searchParams.set("state", stateParam);
  return new Response(null, { status: 303, headers: { Location: target.href, "Cache-Control": "no-store" } });
}

function errorPage(title: string, text: string): Response {
  return page(title, `<p>${escapeHtml(text)}</p>`, 400);
}
