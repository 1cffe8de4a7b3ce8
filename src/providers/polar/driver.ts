/**
 * The Polar AccessLink v3 driver (DESIGN §7).
 *
 * Documentation followed: https://www.polar.com/accesslink-api/ (and its swagger.yaml):
 * - OAuth: HTTP Basic at `https://polarremote.com/v2/oauth2/token`, long-lived access tokens, no
 *   refresh tokens. The token response's `x_user_id` is the Polar user id, and it is the only place
 *   the API names the user: every user endpoint needs it in its path.
 * - Users: a user must be registered for the client (`POST /v3/users` `{"member-id"}`) before any
 *   data call; 409 means already registered. `DELETE /v3/users/{user-id}` de-registers the user and
 *   revokes the access token: Pulse's revocation.
 * - Data: `GET /v3/exercises` lists the exercises of the last 30 days, `GET
 *   /v3/users/nightly-recharge` the Nightly Recharge results of the last 28 days. Neither takes a
 *   range nor pages, so each data type is one page, filtered here to the requested range, and a
 *   backfill cannot reach further back than Polar keeps them (registry `backfillDays`).
 * - Webhooks are the application's (`POST /v3/webhooks` with client credentials); the signing
 *   secret is shown once, so an operator creates the webhook and puts the secret in
 *   `PROVIDER_CREDENTIALS` (docs/providers.md). Nothing per user.
 *
 * The stored "access token" is `<polar user id>:<access token>`: the user id is needed by
 * `profile`, `revoke` and `subscriptions.remove`, and the driver interface hands them the token
 * only. It is sealed at rest like any token (../tokens.ts); this module alone reads it.
 */
import { DomainError } from "../../errors/domain-error";
import type { DriverContext, ProviderDriver, SubscriptionHooks, SyncCursor, TimeRange } from "../driver";
import { expectObject, providerGet, providerRequest } from "../http";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { POLAR_MAPPINGS } from "./mapping";

const facts = PROVIDERS.polar;
const oauth = oauthMethods(facts);
const TYPES = ["exercises", "nightly_recharge"] as const;
type PolarDataType = (typeof TYPES)[number];
const POLAR_WALK: WalkPlan = { dataTypes: TYPES, windowDays: facts.sync.maxWindowDays };
const DAY_MS = 86_400_000;

interface PolarToken {
  userId: string;
  accessToken: string;
}

function composeToken(userId: string, accessToken: string): string {
  return `${userId}:${accessToken}`;
}

function readToken(stored: string): PolarToken {
  const at = stored.indexOf(":");
  if (at <= 0 || at === stored.length - 1) throw new DomainError("UNAUTHENTICATED", "The stored Polar token has no user id.");
  return { userId: stored.slice(0, at), accessToken: stored.slice(at + 1) };
}

function apiUrl(context: DriverContext, path: string): URL {
  return new URL(path, context.origin ?? "https://www.polaraccesslink.com");
}

/** Registers the user for this client; idempotent (409: already registered). */
async function register(context: DriverContext, token: PolarToken): Promise<void> {
  await providerRequest(apiUrl(context, "/v3/users"), "polar", {
    method: "POST",
    headers: { Authorization: `Bearer ${token.accessToken}` },
    // `member-id` is the partner's own reference for the user; the Polar id keeps it stable and
    // tells Polar nothing about Pulse's user.
    body: JSON.stringify({ "member-id": `pulse-${token.userId}` }),
    acceptStatuses: [409],
  });
}

/** De-registers the user (and revokes the token); a user already gone has nothing to revoke. */
async function deregister(context: DriverContext, token: PolarToken): Promise<void> {
  await providerRequest(apiUrl(context, `/v3/users/${encodeURIComponent(token.userId)}`), "polar", {
    method: "DELETE",
    headers: { Authorization: `Bearer ${token.accessToken}` },
    acceptStatuses: [401, 404],
  });
}

/** Whether an item of `type` falls in `[start, end)`: exercises by their start, recharges by their day. */
function inWindow(type: PolarDataType, item: unknown, window: TimeRange): boolean {
  if (typeof item !== "object" || item === null) return true;
  const record = item as Record<string, unknown>;
  let at: number;
  if (type === "exercises") {
    // `start_time` is the wall clock without offset; `start_time_utc_offset` its offset in minutes.
    const wall = typeof record.start_time === "string" ? Date.parse(`${record.start_time.slice(0, 19)}Z`) : Number.NaN;
    const offset = typeof record.start_time_utc_offset === "number" ? record.start_time_utc_offset : 0;
    at = wall - offset * 60_000;
  } else {
    at = typeof record.date === "string" ? Date.parse(`${record.date}T00:00:00Z`) : Number.NaN;
  }
  // An item Pulse cannot place is kept: the mapping rejects it with a reason instead of losing it.
  if (Number.isNaN(at)) return true;
  const since = type === "exercises" ? window.since.getTime() : window.since.getTime() - (window.since.getTime() % DAY_MS);
  return at >= since && at < window.until.getTime();
}

/** The items of a list answer; an empty answer (Polar sends 204 when there is nothing) is none. */
function listOf(type: PolarDataType, body: unknown): unknown[] {
  if (body === null) return [];
  const list = type === "exercises" ? body : expectObject(body, "polar", "a Nightly Recharge list").recharges;
  if (!Array.isArray(list)) throw new DomainError("PROVIDER_FAILED", "Polar's answer is not a list.");
  return list;
}

/** One data type's list (neither takes a range nor pages), kept to the step's window. */
async function fetchStep(context: DriverContext, token: PolarToken, step: WalkStep) {
  const type = step.dataType as PolarDataType;
  const url = type === "exercises" ? apiUrl(context, "/v3/exercises") : apiUrl(context, "/v3/users/nightly-recharge");
  const body = await providerGet(url, token.accessToken, "polar");
  const window = { since: step.windowStart, until: step.windowEnd };
  return { items: listOf(type, body).filter((item) => inWindow(type, item, window)), pageToken: null };
}

const subscriptions: SubscriptionHooks = {
  async ensure(context, accessToken) {
    if (accessToken !== null) await register(context, readToken(accessToken));
  },
  async renew() {
    // Polar webhooks do not expire.
  },
  async remove(context, accessToken) {
    if (accessToken !== null) await deregister(context, readToken(accessToken));
  },
};

export const polarDriver: ProviderDriver<ProviderRecord> = {
  name: "polar",
  facts,
  ...oauth,

  async exchangeCode(context, code, codeVerifier) {
    const tokens = await oauth.exchangeCode(context, code, codeVerifier);
    if (tokens.providerUserId === undefined) {
      throw new DomainError("PROVIDER_FAILED", "Polar's token response has no user id.");
    }
    const token = { userId: tokens.providerUserId, accessToken: tokens.accessToken };
    // Data calls fail until the user is registered: do it while the connection is being made.
    await register(context, token);
    return { ...tokens, accessToken: composeToken(token.userId, token.accessToken) };
  },

  async refresh() {
    throw new DomainError("UNPROCESSABLE", "Polar issues no refresh tokens; its access tokens are long-lived.");
  },

  async revoke(context, tokens) {
    await deregister(context, readToken(tokens.accessToken));
  },

  async profile(context, accessToken) {
    const token = readToken(accessToken);
    const user = expectObject(
      await providerGet(apiUrl(context, `/v3/users/${encodeURIComponent(token.userId)}`), token.accessToken, "polar"),
      "polar",
      "a user",
    );
    const id = user["polar-user-id"];
    if (String(id) !== token.userId) throw new DomainError("PROVIDER_FAILED", "Polar answered for another user.");
    return { providerUserId: token.userId, timeZone: null };
  },

  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, POLAR_WALK, (step) => fetchStep(context, readToken(accessToken), step)),

  map: (records, timeZone) =>
    mapRecords(records, POLAR_MAPPINGS, (type, items) => [type === "exercises" ? items : { recharges: items }], timeZone),

  subscriptions,
};
