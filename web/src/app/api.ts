/**
 * The web app's only way to the API (same origin). Tokens live in this module's memory only —
 * never in localStorage, sessionStorage, cookies or URLs — so an injected script cannot find them
 * later and a reload signs the person out. An access token lives 15 minutes; on a 401 the client
 * refreshes once (which rotates the refresh token) and retries.
 */

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** A problem+json answer (RFC 9457), or a network failure (status 0), in the server's own words. */
export class ProblemError extends Error {
  override name = "ProblemError";
  readonly status: number;
  readonly code: string | undefined;
  readonly problem: Record<string, unknown> | null;

  constructor(message: string, status: number, problem: Record<string, unknown> | null = null) {
    super(message);
    this.status = status;
    this.problem = problem;
    this.code = typeof problem?.code === "string" ? problem.code : undefined;
  }
}

export interface RequestOptions {
  /** Sent as JSON unless it is already a body (a File, a Blob, bytes). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

type SignedOutListener = () => void;

export class ApiClient {
  #tokens: Tokens | null = null;
  #refreshing: Promise<boolean> | null = null;
  readonly #signedOut = new Set<SignedOutListener>();

  get signedIn(): boolean {
    return this.#tokens !== null;
  }

  setTokens(tokens: Tokens): void {
    this.#tokens = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
  }

  /** Forgets the tokens and tells every listener (the shell shows the sign-in page). */
  clear(): void {
    const wasSignedIn = this.#tokens !== null;
    this.#tokens = null;
    if (wasSignedIn) for (const listener of this.#signedOut) listener();
  }

  onSignedOut(listener: SignedOutListener): () => void {
    this.#signedOut.add(listener);
    return () => this.#signedOut.delete(listener);
  }

  /** A request without a token (the passkey ceremonies). */
  anonymous<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return send<T>(method, path, options, null);
  }

  /** A request as the signed-in person, refreshed once on 401. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const tokens = this.#tokens;
    if (tokens === null) throw new ProblemError("You are not signed in.", 401);
    try {
      return await send<T>(method, path, options, tokens.accessToken);
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status !== 401) throw error;
      if (!(await this.refresh())) throw error;
      const fresh = this.#tokens as Tokens | null;
      if (fresh === null) throw error;
      return send<T>(method, path, options, fresh.accessToken);
    }
  }

  /**
   * The current access token, for the few requests fetch cannot make (an upload with progress goes
   * through XMLHttpRequest). Callers that get a 401 call `refresh()` and try once more.
   */
  accessToken(): string | null {
    return this.#tokens?.accessToken ?? null;
  }

  /** Rotates the token pair; concurrent callers share one refresh. False (and signed out) when it fails. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<boolean> {
    const refreshToken = this.#tokens?.refreshToken;
    if (refreshToken === undefined) return false;
    try {
      this.setTokens(await send<Tokens>("POST", "/v1/auth/refresh", { body: { refreshToken } }, null));
      return true;
    } catch (error) {
      // A refused refresh token (expired, revoked, reused) ends the session; a network error does not.
      if (error instanceof ProblemError && error.status >= 400 && error.status < 500) this.clear();
      return false;
    }
  }
}

export const api = new ApiClient();

function isBody(value: unknown): value is BodyInit {
  return value instanceof Blob || value instanceof ArrayBuffer || ArrayBuffer.isView(value) || value instanceof FormData;
}

async function send<T>(method: string, path: string, options: RequestOptions, accessToken: string | null): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json, application/problem+json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    if (isBody(options.body)) {
      body = options.body;
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
  }
  if (accessToken !== null) headers.Authorization = `Bearer ${accessToken}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      cache: "no-store",
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ProblemError("Pulse could not be reached. Check your connection and that the server is running.", 0);
  }
  return readResponse<T>(response);
}

/** The JSON of a successful answer; a ProblemError with the server's `detail` otherwise. */
export async function readResponse<T>(response: Response): Promise<T> {
  if (response.status === 204) return undefined as T;
  const json = /json/.test(response.headers.get("Content-Type") ?? "");
  let data: unknown = null;
  if (json) {
    try {
      data = await response.json();
    } catch (error) {
      // Leaving a view aborts its reads, also while an answer's body is still arriving: that is an
      // abort (which views ignore), not an empty answer whose fields they would then read.
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      // An error's unreadable body still has its status; a success's unreadable body has nothing.
      if (response.ok) throw new ProblemError("The server's answer could not be read. Try again.", response.status);
    }
  }
  if (!response.ok) throw problemOf(response.status, data);
  return data as T;
}

export function problemOf(status: number, data: unknown): ProblemError {
  const problem = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : null;
  const detail = problem?.detail ?? problem?.title;
  const text = typeof detail === "string" ? detail : `The server answered ${status}.`;
  return new ProblemError(`${text}${fieldIssues(problem?.errors)}`, status, problem);
}

/**
 * A refused form field is named in the problem's `errors` ([{path, message}]), not in its generic
 * detail; a person needs both to fix the input: " (username: must not be empty)".
 */
function fieldIssues(errors: unknown): string {
  if (!Array.isArray(errors)) return "";
  const issues = errors
    .filter(
      (issue): issue is { path: string; message: string } =>
        typeof issue?.path === "string" && typeof issue?.message === "string",
    )
    .map((issue) => (issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`));
  return issues.length === 0 ? "" : ` (${issues.join("; ")})`;
}
