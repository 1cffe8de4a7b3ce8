import { DomainError } from "../../../src/errors/domain-error";
import type { DriverContext, ProviderDriver, ProviderTokens, SyncCursor, TimeRange } from "../../../src/providers/driver";
import { oauthMethods } from "../../../src/providers/oauth";
import { mapOuraHeartRate } from "../../../src/providers/oura/mapping";
import { PROVIDERS } from "../../../src/providers/registry";

/**
 * A stand-in for Oura's API behind a `fetch` interceptor, shaped as Oura documents it
 * (https://cloud.ouraring.com/v2/docs): `GET /v2/usercollection/heartrate?start_datetime&
 * end_datetime&next_token` → `{data: [{bpm, source, timestamp}], next_token}`, Bearer tokens, 429
 * with `Retry-After` when throttled, and `POST /oauth/token` (RFC 6749 §6) issuing a new refresh
 * token on every refresh and refusing a used one with `invalid_grant`, as rotating providers do.
 * Each account's data is reachable only with that account's access token.
 */
export const OURA_API = "https://api.ouraring.com";
const HEARTRATE_PATH = "/v2/usercollection/heartrate";

export interface Sample {
  bpm: number;
  source: string;
  timestamp: string;
}

export interface DataRequest {
  account: string | null;
  nextToken: string | null;
}

export class FakeOura {
  pageSize = 3;
  /** Seconds until issued access tokens expire. */
  expiresIn = 7200;
  /** Wait before answering a token request, so concurrent refreshes really overlap. */
  tokenDelayMs = 0;
  tokenCalls = 0;
  readonly dataRequests: DataRequest[] = [];
  /** Answers to give the next data requests instead of data (a 429, a 500, …); null: the data. */
  readonly scripted: ((() => Response) | null)[] = [];
  readonly #samples = new Map<string, Sample[]>();
  readonly #access = new Map<string, string>();
  readonly #refresh = new Map<string, string>();
  readonly #latestRefresh = new Map<string, string>();

  addAccount(account: string, samples: Sample[]): void {
    this.#samples.set(account, samples);
  }

  /** Tokens as a code exchange would have issued them. */
  issue(account: string, expiresAt: Date = new Date(Date.now() + this.expiresIn * 1000)): ProviderTokens {
    const accessToken = `at-${crypto.randomUUID()}`;
    const refreshToken = `rt-${crypto.randomUUID()}`;
    this.#access.set(accessToken, account);
    this.#refresh.set(refreshToken, account);
    this.#latestRefresh.set(account, refreshToken);
    return { accessToken, refreshToken, accessTokenExpiresAt: expiresAt, scopes: ["heartrate"] };
  }

  /** The access token stops working (revoked at the provider before its expiry). */
  expireAccessToken(token: string): void {
    this.#access.delete(token);
  }

  /** The person removed Pulse's access at the provider: every refresh token of theirs is dead. */
  revokeGrant(account: string): void {
    for (const [token, owner] of this.#refresh) if (owner === account) this.#refresh.delete(token);
  }

  latestRefreshToken(account: string): string | undefined {
    return this.#latestRefresh.get(account);
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.origin !== OURA_API) return new Response("unexpected host", { status: 599 });
    if (url.pathname === "/oauth/token" && request.method === "POST") return this.#token(await request.formData());
    if (url.pathname === HEARTRATE_PATH && request.method === "GET") return this.#heartrate(request, url);
    return Response.json({ detail: "Not Found" }, { status: 404 });
  }

  async #token(form: FormData): Promise<Response> {
    this.tokenCalls++;
    if (this.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
    const presented = form.get("refresh_token");
    const account = typeof presented === "string" ? this.#refresh.get(presented) : undefined;
    if (form.get("grant_type") !== "refresh_token" || typeof presented !== "string" || account === undefined) {
      return Response.json({ error: "invalid_grant" }, { status: 400 });
    }
    this.#refresh.delete(presented);
    const tokens = this.issue(account);
    return Response.json({
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      token_type: "bearer",
      expires_in: this.expiresIn,
    });
  }

  #heartrate(request: Request, url: URL): Response {
    const token = request.headers.get("Authorization")?.replace(/^Bearer /, "") ?? "";
    const account = this.#access.get(token) ?? null;
    const nextToken = url.searchParams.get("next_token");
    this.dataRequests.push({ account, nextToken });
    const scripted = this.scripted.shift();
    if (scripted) return scripted();
    if (account === null) return Response.json({ detail: "Invalid token" }, { status: 401 });
    const start = Date.parse(url.searchParams.get("start_datetime") ?? "");
    const end = Date.parse(url.searchParams.get("end_datetime") ?? "");
    const inRange = (this.#samples.get(account) ?? []).filter(
      (s) => Date.parse(s.timestamp) >= start && Date.parse(s.timestamp) < end,
    );
    const offset = nextToken === null ? 0 : Number(atob(nextToken));
    const data = inRange.slice(offset, offset + this.pageSize);
    const next = offset + this.pageSize < inRange.length ? btoa(String(offset + this.pageSize)) : null;
    return Response.json({ data, next_token: next });
  }
}

/** Heart-rate samples one minute apart from `start`. */
export function heartRateSamples(start: Date, count: number, bpm = 60): Sample[] {
  return Array.from({ length: count }, (_, index) => ({
    bpm: bpm + index,
    source: "awake",
    timestamp: new Date(start.getTime() + index * 60_000).toISOString().replace("Z", "+00:00").replace(".000", ""),
  }));
}

/**
 * An Oura heart-rate driver written for these tests: the sync jobs take their driver lookup as a
 * parameter, so they are tested against this rather than a production driver being built apart.
 */
export const testOuraDriver: ProviderDriver = {
  name: "oura",
  facts: PROVIDERS.oura,
  ...oauthMethods(PROVIDERS.oura),
  async profile() {
    return { providerUserId: "oura-user", timeZone: null };
  },
  async fetchRange(_context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) {
    const url = new URL(HEARTRATE_PATH, OURA_API);
    url.searchParams.set("start_datetime", range.since.toISOString());
    url.searchParams.set("end_datetime", range.until.toISOString());
    if (cursor?.pageToken) url.searchParams.set("next_token", cursor.pageToken);
    const response = await fetch(url, { headers: { Authorization: `Bearer ${accessToken}` } });
    if (response.status === 401) throw new DomainError("UNAUTHENTICATED", "Oura refused the access token.");
    if (response.status === 429) {
      throw new DomainError("RATE_LIMITED", "Oura's rate limit was reached.", {
        retryAfterSeconds: Number(response.headers.get("Retry-After") ?? "60"),
      });
    }
    if (!response.ok) throw new DomainError("PROVIDER_FAILED", "Oura did not answer the heart-rate request.");
    const body = (await response.json()) as { data: unknown[]; next_token: string | null };
    return {
      records: body.data,
      next:
        body.next_token === null
          ? null
          : { windowStart: range.since.toISOString(), pageToken: body.next_token, dataType: "heartrate" },
    };
  },
  map(records, timeZone) {
    return mapOuraHeartRate({ data: records }, { fetchedAt: Date.now(), timeZone });
  },
};

export const TEST_DRIVER_CONTEXT: DriverContext = {
  clientId: "pulse-test-client",
  clientSecret: "pulse-test-secret",
  redirectUri: "http://localhost/oauth/oura/callback",
};
