/**
 * Signing users up and in through the real Worker, for any test that needs a signed-in user:
 * `const ada = await signUp()` gives the user, tokens, recovery codes and the software
 * authenticator holding their passkey. Each call uses a fresh username and client IP, so tests
 * neither collide nor share rate-limit buckets.
 */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { type AuthenticatorInit, type CeremonyKnobs, SoftwareAuthenticator } from "./authenticator";

export const BASE = "http://localhost";

/** The passkey ceremony options a test feeds to its software authenticator. */
export type CreationOptions = Parameters<SoftwareAuthenticator["register"]>[0];
export type RequestOptions = Parameters<SoftwareAuthenticator["authenticate"]>[0];

export interface PublicUserBody {
  id: string;
  username: string;
  displayName: string;
  role: string;
  createdAt: string;
}

export interface TokenResponse {
  user: PublicUserBody;
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  sessionId: string;
}

export interface SignedUpUser extends TokenResponse {
  recoveryCodes: string[];
  authenticator: SoftwareAuthenticator;
  /** The client IP the sign-up used; pass it on to keep this user's requests in one bucket. */
  ip: string;
}

export interface SignUpOptions {
  username?: string;
  displayName?: string;
  ip?: string;
  authenticator?: AuthenticatorInit;
}

/** A random address in 2001:db8::/32 (RFC 3849), in its own /64: a fresh per-IP quota. */
export function uniqueIp(): string {
  const [a = 0, b = 0, c = 0] = crypto.getRandomValues(new Uint16Array(3));
  return `2001:db8:${a.toString(16)}:${b.toString(16)}::${c.toString(16)}`;
}

export function uniqueUsername(prefix = "user"): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/** A JSON request to the real Worker, optionally with a bearer token. */
export function api(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; ip?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "CF-Connecting-IP": options.ip ?? uniqueIp(), ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  return exports.default.fetch(`${BASE}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
}

/** The JSON body of a response that must have `status` (the body text is shown when it has not). */
export async function expectStatus<T>(res: Response, status: number): Promise<T> {
  if (res.status !== status) expect.fail(`expected ${status}, got ${res.status}: ${await res.text()}`);
  return res.json<T>();
}

/** Registers a new account with a software passkey, end to end (options → create → verify). */
export async function signUp(options: SignUpOptions = {}): Promise<SignedUpUser> {
  const ip = options.ip ?? uniqueIp();
  const username = options.username ?? uniqueUsername();
  const authenticator = await SoftwareAuthenticator.create(options.authenticator);
  const start = await expectStatus<{ flowId: string; options: CreationOptions }>(
    await api("POST", "/v1/auth/register/options", {
      ip,
      body: options.displayName ? { username, displayName: options.displayName } : { username },
    }),
    200,
  );
  const response = await authenticator.register(start.options);
  const body = await expectStatus<TokenResponse & { recoveryCodes: string[] }>(
    await api("POST", "/v1/auth/register/verify", { ip, body: { flowId: start.flowId, response } }),
    201,
  );
  return { ...body, authenticator, ip };
}

/** Signs in with an existing passkey (discoverable: no username unless given). */
export async function signIn(
  authenticator: SoftwareAuthenticator,
  options: { username?: string; ip?: string; knobs?: CeremonyKnobs } = {},
): Promise<TokenResponse> {
  const res = await attemptSignIn(authenticator, options);
  return expectStatus<TokenResponse>(res, 200);
}

/** The raw response of a sign-in ceremony, for tests that expect it to fail. */
export async function attemptSignIn(
  authenticator: SoftwareAuthenticator,
  options: { username?: string; ip?: string; knobs?: CeremonyKnobs } = {},
): Promise<Response> {
  const ip = options.ip ?? uniqueIp();
  const start = await expectStatus<{ flowId: string; options: RequestOptions }>(
    await api("POST", "/v1/auth/login/options", { ip, body: options.username ? { username: options.username } : {} }),
    200,
  );
  const response = await authenticator.authenticate(start.options, options.knobs);
  return api("POST", "/v1/auth/login/verify", { ip, body: { flowId: start.flowId, response } });
}

/** Adds a passkey to a signed-in account (or a recovery session): options → create → verify. */
export async function addPasskey(
  token: string,
  authenticator: SoftwareAuthenticator,
  options: { ip?: string; name?: string; knobs?: CeremonyKnobs } = {},
): Promise<Response> {
  const ip = options.ip ?? uniqueIp();
  const start = await expectStatus<{ flowId: string; options: CreationOptions }>(
    await api("POST", "/v1/me/passkeys/options", { ip, token }),
    200,
  );
  const response = await authenticator.register(start.options, options.knobs);
  const body = { flowId: start.flowId, response, ...(options.name ? { name: options.name } : {}) };
  return api("POST", "/v1/me/passkeys/verify", { ip, token, body });
}
