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
 * `fetchRange` walks data types × 30-day windows × pages through the shared walk (../walk.ts); its
 * cursor names all three, so a sync resumes at the page it stopped on.
 */
import { DomainError } from "../../errors/domain-error";
import type { DriverContext, ProviderDriver, SyncCursor, TimeRange } from "../driver";
import { expectObject, pageTokenOf, providerRequest } from "../http";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { SANDBOX_DATA_TYPES, SANDBOX_MAPPINGS } from "./mapping";

const facts = PROVIDERS.sandbox;
const SANDBOX_WALK: WalkPlan = { dataTypes: SANDBOX_DATA_TYPES, windowDays: facts.sync.maxWindowDays ?? 30 };

function originOf(context: DriverContext): string {
  return context.origin ?? new URL(facts.oauth?.tokenUrl ?? "http://localhost:8789").origin;
}

/** A bearer GET; 403 (`insufficient_scope`: a type the grant does not cover) answers null. */
function get(url: URL, accessToken: string): Promise<unknown> {
  return providerRequest(url, "sandbox", { headers: { Authorization: `Bearer ${accessToken}` }, acceptStatuses: [403] });
}

async function profile(context: DriverContext, accessToken: string) {
  const body = await get(new URL("/v1/me", originOf(context)), accessToken);
  if (body === null) throw new DomainError("PROVIDER_FAILED", "The sandbox provider refused the profile request.");
  const me = expectObject(body, "sandbox", "a profile");
  if (typeof me.user_id !== "string") throw new DomainError("PROVIDER_FAILED", "The sandbox provider's profile has no user id.");
  return { providerUserId: me.user_id, timeZone: typeof me.time_zone === "string" ? me.time_zone : null };
}

async function fetchStep(context: DriverContext, accessToken: string, step: WalkStep) {
  const url = new URL(`/v1/data/${step.dataType}`, originOf(context));
  url.searchParams.set("start", step.windowStart.toISOString());
  url.searchParams.set("end", step.windowEnd.toISOString());
  if (step.pageToken !== null) url.searchParams.set("page_token", step.pageToken);
  const body = await get(url, accessToken);
  // The person did not grant this type: nothing to fetch in any window.
  if (body === null) return { items: [], pageToken: null, typeExhausted: true };
  const page = expectObject(body, "sandbox", "a data page");
  const token = page.next_page_token ?? null;
  if (!Array.isArray(page.data) || (token !== null && pageTokenOf(token) === null)) {
    throw new DomainError("PROVIDER_FAILED", `The sandbox provider's ${step.dataType} page is not the documented shape.`);
  }
  return { items: page.data, pageToken: pageTokenOf(token) };
}

export const sandboxDriver: ProviderDriver<ProviderRecord> = {
  name: "sandbox",
  facts,
  ...oauthMethods(facts),
  profile,
  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, SANDBOX_WALK, (step) => fetchStep(context, accessToken, step)),
  map: (records, timeZone) => mapRecords(records, SANDBOX_MAPPINGS, (_type, items) => [{ data: items }], timeZone),
};
