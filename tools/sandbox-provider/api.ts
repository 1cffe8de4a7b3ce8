/**
 * The sandbox's resource API (Bearer tokens, RFC 6750) and its control API.
 *
 * - `GET /v1/me` → `{"user_id", "time_zone"}`.
 * - `GET /v1/data/{type}?start=<ISO>&end=<ISO>[&page_token=]` → `{"data_type", "data": [...],
 *   "next_page_token": string | null}`: records starting in `[start, end)`, at most 30 days per
 *   request (400 `range_too_large` beyond), pages of `pageSize` (2,000) records.
 * - `/_sandbox/…`: failure modes, token expiry and revocation, and pushes of new data. It has no
 *   authentication: the sandbox listens on loopback for one developer or one test run.
 */
import { DATA_TYPES, type DataType, isDataType, MINUTE, SCOPE_DATA_TYPES, seriesOf } from "./data.ts";
import { json, oauthError, readJson } from "./http.ts";
import {
  type Account,
  expireAccessTokens,
  type Failures,
  resolveAccessToken,
  revokeAccount,
  type SandboxState,
} from "./state.ts";
import { buildDelivery, type DeliveryResult, deliver } from "./webhook.ts";

const MAX_WINDOW_MS = 30 * 86_400_000;

function authenticate(state: SandboxState, request: Request): { account: Account; scopes: string[] } | Response {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  const resolved = match?.[1] ? resolveAccessToken(state, match[1]) : null;
  if (!resolved) {
    return oauthError("invalid_token", "The access token is missing, expired or revoked.", 401, {
      "WWW-Authenticate": 'Bearer realm="sandbox", error="invalid_token"',
    });
  }
  return injectedFailure(state, resolved.account.failures) ?? injectedFailure(state, state.failures) ?? resolved;
}

/** The failure modes set through the control API, consumed as requests arrive. */
function injectedFailure(state: SandboxState, failures: Failures): Response | null {
  if (failures.failNext) {
    const { status } = failures.failNext;
    failures.failNext.count -= 1;
    if (failures.failNext.count <= 0) failures.failNext = null;
    return json({ error: "server_error", error_description: "Injected failure." }, status);
  }
  const limit = failures.rateLimit;
  if (!limit) return null;
  const now = state.options.now();
  if (limit.blockedUntil !== null && now >= limit.blockedUntil) {
    failures.rateLimit = null;
    return null;
  }
  if (limit.remaining > 0) {
    limit.remaining -= 1;
    return null;
  }
  limit.blockedUntil ??= now + limit.retryAfter * 1000;
  const retryAfter = Math.max(1, Math.ceil((limit.blockedUntil - now) / 1000));
  return json({ error: "rate_limited", error_description: "Too many requests." }, 429, { "Retry-After": String(retryAfter) });
}

export function me(state: SandboxState, request: Request): Response {
  const auth = authenticate(state, request);
  if (auth instanceof Response) return auth;
  return json({ user_id: auth.account.userId, time_zone: auth.account.timeZone });
}

interface PageToken {
  t: string;
  s: number;
  e: number;
  o: number;
}

export function data(state: SandboxState, request: Request, type: string): Response {
  if (!isDataType(type)) return json({ error: "not_found", error_description: `Data types: ${DATA_TYPES.join(", ")}.` }, 404);
  const auth = authenticate(state, request);
  if (auth instanceof Response) return auth;
  if (!auth.scopes.some((scope) => SCOPE_DATA_TYPES[scope]?.includes(type))) {
    return oauthError("insufficient_scope", `The grant does not include ${type}.`, 403, {
      "WWW-Authenticate": `Bearer realm="sandbox", error="insufficient_scope"`,
    });
  }
  const q = new URL(request.url).searchParams;
  const start = instant(q.get("start"));
  const end = instant(q.get("end"));
  if (start === null || end === null) return oauthError("invalid_request", "start and end must be ISO 8601 instants.");
  if (end <= start) return oauthError("invalid_request", "end must be after start.");
  if (end - start > MAX_WINDOW_MS) return oauthError("range_too_large", "A request covers at most 30 days.");
  let offset = 0;
  const tokenText = q.get("page_token");
  if (tokenText) {
    const token = readPageToken(tokenText);
    if (!token || token.t !== type || token.s !== start || token.e !== end) {
      return oauthError("invalid_request", "page_token does not belong to this query.");
    }
    offset = token.o;
  }
  const series = seriesOf(auth.account, type, { start, end, availableUntil: auth.account.availableUntil });
  const size = state.options.pageSize;
  const records: Record<string, unknown>[] = [];
  for (let i = offset; i < Math.min(series.count, offset + size); i++) records.push(series.at(i));
  const next = offset + size < series.count ? writePageToken({ t: type, s: start, e: end, o: offset + size }) : null;
  return json({ data_type: type, data: records, next_page_token: next });
}

function instant(text: string | null): number | null {
  if (text === null || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

function writePageToken(token: PageToken): string {
  return btoa(JSON.stringify(token)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function readPageToken(text: string): PageToken | null {
  try {
    const value: unknown = JSON.parse(atob(text.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof value !== "object" || value === null) return null;
    const { t, s, e, o } = value as Record<string, unknown>;
    if (typeof t !== "string" || typeof s !== "number" || typeof e !== "number" || typeof o !== "number") return null;
    return Number.isSafeInteger(o) && o >= 0 ? { t, s, e, o } : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Control API.

/** `POST /_sandbox/control` (every account) or `/_sandbox/users/{id}/control` (one account). */
export async function control(request: Request, failures: Failures): Promise<Response> {
  const body = await readJson(request);
  if (body === null) return json({ error: "invalid_request", error_description: "The body must be a JSON object." }, 400);
  if ("rateLimit" in body) {
    const value = body.rateLimit;
    if (value === null) failures.rateLimit = null;
    else {
      const { remaining = 0, retryAfter = 30 } = (typeof value === "object" ? value : {}) as Record<string, unknown>;
      if (!isCount(remaining) || !isCount(retryAfter) || retryAfter < 1) {
        return json({ error: "invalid_request", error_description: "rateLimit is {remaining ≥ 0, retryAfter ≥ 1}." }, 400);
      }
      failures.rateLimit = { remaining, retryAfter, blockedUntil: null };
    }
  }
  if ("failNext" in body) {
    const value = body.failNext;
    const spec = typeof value === "number" ? { status: value, count: 1 } : (value as Record<string, unknown> | null);
    if (spec === null) failures.failNext = null;
    else {
      const { status = 500, count = 1 } = spec;
      if (!isCount(status) || status < 500 || status > 599 || !isCount(count) || count < 1) {
        return json({ error: "invalid_request", error_description: "failNext is a 5xx status or {status, count}." }, 400);
      }
      failures.failNext = { status, count };
    }
  }
  return json({ rateLimit: failures.rateLimit, failNext: failures.failNext });
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function listAccounts(state: SandboxState): Response {
  return json({
    users: [...state.accounts.values()].map((account) => ({
      user_id: account.userId,
      name: account.name,
      time_zone: account.timeZone,
      available_until: new Date(account.availableUntil).toISOString(),
    })),
  });
}

export function expireTokens(state: SandboxState, account: Account): Response {
  return json({ expired: expireAccessTokens(state, account.userId) });
}

export function revokeTokens(state: SandboxState, account: Account): Response {
  return json({ revoked: revokeAccount(state, account.userId) });
}

/**
 * `POST /_sandbox/users/{id}/push {"data_type"?, "until"?}`: the wearable synced. Data up to
 * `until` (default now) becomes available, and a signed webhook says so. Answers the delivery and
 * the receiver's status, so a test can also deliver it itself.
 */
export async function push(state: SandboxState, request: Request, account: Account): Promise<Response> {
  const body = await readJson(request);
  if (body === null) return json({ error: "invalid_request", error_description: "The body must be a JSON object." }, 400);
  const dataType = body.data_type ?? "all";
  if (typeof dataType !== "string" || (dataType !== "all" && !isDataType(dataType))) {
    return json({ error: "invalid_request", error_description: `data_type is "all" or one of ${DATA_TYPES.join(", ")}.` }, 400);
  }
  const now = state.options.now();
  const until = body.until === undefined ? now : typeof body.until === "string" ? Date.parse(body.until) : Number.NaN;
  if (!Number.isFinite(until) || until > now) {
    return json({ error: "invalid_request", error_description: "until must be an ISO 8601 instant, not in the future." }, 400);
  }
  const end = Math.floor(until / MINUTE) * MINUTE;
  const start = account.availableUntil;
  if (end <= start) return json({ error: "nothing_new", error_description: "No new data since the last push." }, 409);
  account.availableUntil = end;
  const delivery = await buildDelivery(
    state.options.webhookSigningSecret,
    state.options.webhookUrl,
    { userId: account.userId, dataType: dataType as DataType | "all", start, end },
    now,
  );
  const result: DeliveryResult = { delivery, receiver: await deliver(delivery) };
  return json(result);
}
