/**
 * The driver of the sandbox provider: Pulse's local fake provider (tools/sandbox-provider), which
 * speaks OAuth 2.0 with PKCE S256 and rotating refresh tokens, serves a paged data API and signs
 * its webhooks, so the whole connection flow runs offline (DESIGN §7). It is offered only when
 * `ENABLE_SANDBOX_PROVIDER` is true, never in production (./../config.ts).
 *
 * Sandbox API (origin = SANDBOX_PROVIDER_ORIGIN; docs/providers.md "The sandbox provider"):
 * - `GET /oauth/authorize`, `POST /oauth/token`, `POST /oauth/revoke` (RFC 6749, 7636, 7009).
 * - `GET /v1/me` (Bearer) → `{"user_id": string, "time_zone": string}`.
 * - `GET /v1/data/{type}?start&end&page_token` (Bearer) → `{"data": [...], "next_page_token"}`,
 *   at most 30 days per request; 401 for a dead token, 403 `insufficient_scope` for a type the
 *   grant does not cover (skipped), 429 with `Retry-After`.
 *
 * `fetchRange` walks data types × 30-day windows × pages; its cursor names all three, so a sync
 * resumes at the page it stopped on.
 */
import { DomainError } from "../../errors/domain-error";
import type { FetchPage, MappedProviderData, ProviderDriver, ProviderProfile, SyncCursor, TimeRange } from "../driver";
import { emptyBatch } from "../mapping/types";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { isSandboxDataType, SANDBOX_DATA_TYPES, SANDBOX_MAPPINGS, type SandboxDataType } from "./mapping";

const facts = PROVIDERS.sandbox;
const DAY_MS = 86_400_000;
const WINDOW_MS = (facts.sync.maxWindowDays ?? 30) * DAY_MS;
/** When a 429 carries no usable `Retry-After`. */
const DEFAULT_RETRY_SECONDS = 60;

/** One record of the data API, tagged with the endpoint it came from. */
export interface SandboxRecord {
  dataType: SandboxDataType;
  record: unknown;
}

function originOf(origin: string | undefined): string {
  return origin ?? new URL(facts.oauth?.tokenUrl ?? "http://localhost:8789").origin;
}

/** GET with the Bearer token; the provider's failures as Pulse's errors. 403 answers null. */
async function get(url: URL, accessToken: string, what: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" } });
  } catch (error) {
    throw new DomainError("PROVIDER_FAILED", `The sandbox provider could not be reached for ${what}.`, { cause: error });
  }
  if (response.ok) {
    const body: unknown = await response.json().catch(() => undefined);
    if (typeof body !== "object" || body === null) {
      throw new DomainError("PROVIDER_FAILED", `The sandbox provider's answer to ${what} is not JSON.`);
    }
    return body;
  }
  await response.body?.cancel();
  if (response.status === 401) {
    throw new DomainError("UNAUTHENTICATED", "The sandbox provider refused the access token; refresh or reconnect.");
  }
  if (response.status === 403) return null;
  if (response.status === 429) {
    throw new DomainError("RATE_LIMITED", "The sandbox provider is rate limiting Pulse; try again later.", {
      retryAfterSeconds: retryAfterSeconds(response.headers.get("retry-after")),
    });
  }
  throw new DomainError("PROVIDER_FAILED", `The sandbox provider failed ${what} (HTTP ${response.status}).`);
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
function retryAfterSeconds(header: string | null): number {
  if (header === null) return DEFAULT_RETRY_SECONDS;
  if (/^\d+$/.test(header.trim())) return Math.max(1, Number(header.trim()));
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(1, Math.ceil((date - Date.now()) / 1000)) : DEFAULT_RETRY_SECONDS;
}

async function profile(origin: string, accessToken: string): Promise<ProviderProfile> {
  const body = (await get(new URL("/v1/me", origin), accessToken, "the profile")) as {
    user_id?: unknown;
    time_zone?: unknown;
  } | null;
  if (body === null) throw new DomainError("PROVIDER_FAILED", "The sandbox provider refused the profile request.");
  if (typeof body.user_id !== "string")
    throw new DomainError("PROVIDER_FAILED", "The sandbox provider's profile has no user id.");
  return { providerUserId: body.user_id, timeZone: typeof body.time_zone === "string" ? body.time_zone : null };
}

/** Where a sync stands: the cursor given, or the first type's first window. */
function position(
  range: TimeRange,
  cursor: SyncCursor | null,
): { type: SandboxDataType; windowStart: number; pageToken: string | null } {
  if (cursor === null) return { type: SANDBOX_DATA_TYPES[0], windowStart: range.since.getTime(), pageToken: null };
  const windowStart = Date.parse(cursor.windowStart);
  if (
    cursor.dataType === null ||
    !isSandboxDataType(cursor.dataType) ||
    !Number.isFinite(windowStart) ||
    windowStart < range.since.getTime() ||
    windowStart >= range.until.getTime()
  ) {
    throw new DomainError("BAD_REQUEST", "The sync checkpoint does not belong to this range.");
  }
  return { type: cursor.dataType, windowStart, pageToken: cursor.pageToken };
}

/** The cursor after a page: the next page, else the next window, else the next type, else done. */
function following(range: TimeRange, type: SandboxDataType, windowStart: number, windowEnd: number, pageToken: string | null) {
  if (pageToken !== null) return { dataType: type, windowStart: new Date(windowStart).toISOString(), pageToken };
  if (windowEnd < range.until.getTime())
    return { dataType: type, windowStart: new Date(windowEnd).toISOString(), pageToken: null };
  const next = SANDBOX_DATA_TYPES[SANDBOX_DATA_TYPES.indexOf(type) + 1];
  return next === undefined ? null : { dataType: next, windowStart: range.since.toISOString(), pageToken: null };
}

async function fetchRange(
  origin: string,
  accessToken: string,
  range: TimeRange,
  cursor: SyncCursor | null,
): Promise<FetchPage<SandboxRecord>> {
  if (range.until.getTime() <= range.since.getTime()) return { records: [], next: null };
  const at = position(range, cursor);
  const windowEnd = Math.min(at.windowStart + WINDOW_MS, range.until.getTime());
  const url = new URL(`/v1/data/${at.type}`, origin);
  url.searchParams.set("start", new Date(at.windowStart).toISOString());
  url.searchParams.set("end", new Date(windowEnd).toISOString());
  if (at.pageToken !== null) url.searchParams.set("page_token", at.pageToken);
  const body = (await get(url, accessToken, `the ${at.type} data`)) as { data?: unknown; next_page_token?: unknown } | null;
  if (body === null) {
    // The person did not grant this type: nothing to fetch in any window.
    return { records: [], next: following(range, at.type, at.windowStart, range.until.getTime(), null) };
  }
  const token = body.next_page_token ?? null;
  if (!Array.isArray(body.data) || (token !== null && (typeof token !== "string" || token.length === 0))) {
    throw new DomainError("PROVIDER_FAILED", `The sandbox provider's ${at.type} page is not the documented shape.`);
  }
  return {
    records: body.data.map((record: unknown) => ({ dataType: at.type, record })),
    next: following(range, at.type, at.windowStart, windowEnd, token),
  };
}

function map(records: SandboxRecord[], timeZone: string | null): MappedProviderData {
  const byType = new Map<SandboxDataType, unknown[]>();
  const batch = emptyBatch();
  for (const { dataType, record } of records) {
    if (!isSandboxDataType(dataType)) {
      batch.rejected.push({ sourceRecordId: null, reason: "dataType is not a sandbox data type" });
      continue;
    }
    const list = byType.get(dataType) ?? [];
    list.push(record);
    byType.set(dataType, list);
  }
  for (const [dataType, list] of byType) {
    const mapped = SANDBOX_MAPPINGS[dataType]({ data: list }, { fetchedAt: 0, timeZone });
    // Loops, not spreads: a page of samples is past what a spread call's arguments may hold.
    for (const item of mapped.observations) batch.observations.push(item);
    for (const item of mapped.sleepSessions) batch.sleepSessions.push(item);
    for (const item of mapped.workouts) batch.workouts.push(item);
    for (const item of mapped.rejected) batch.rejected.push(item);
  }
  return batch;
}

export const sandboxDriver: ProviderDriver<SandboxRecord> = {
  name: "sandbox",
  facts,
  ...oauthMethods(facts),
  profile: (context, accessToken) => profile(originOf(context.origin), accessToken),
  fetchRange: (context, accessToken, range, cursor) => fetchRange(originOf(context.origin), accessToken, range, cursor),
  map,
};
