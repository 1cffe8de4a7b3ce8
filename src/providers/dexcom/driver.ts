/**
 * The Dexcom API v3 driver (DESIGN §7). References:
 * https://developer.dexcom.com/docs/dexcomv3/endpoint-overview (hosts, rate limit),
 * https://developer.dexcom.com/docs/dexcomv3/operation/getEstimatedGlucoseValuesV3 (EGVs),
 * https://developer.dexcom.com/docs/dexcomv3/operation/getDataRangeV3 (data range), checked late 2026.
 *
 * - Hosts: US `https://api.dexcom.com` (default), EU and outside the US `https://api.dexcom.eu`,
 *   Japan `https://api.dexcom.jp`, sandbox `https://sandbox-api.dexcom.com` (registry `regions`).
 *   A deployment picks one with `origin` in PROVIDER_CREDENTIALS; OAuth and data follow it.
 * - OAuth from the registry (`offline_access`, secret in the form body). Dexcom has no revocation
 *   endpoint: the person revokes at Dexcom, so `revoke` resolves without a request.
 * - Profile: Dexcom has no profile endpoint; `GET /v3/users/self/dataRange` names `userId` (unique
 *   per Dexcom account and client). No time zone: `displayTime` carries the device's offset.
 * - Data: `GET /v3/users/self/egvs?startDate&endDate`, UTC instants written without an offset
 *   (`2026-03-01T09:12:35`, Dexcom's example format), interpreted on `systemTime`. No paging: one
 *   request per window. Windows of `facts.sync.maxWindowDays` (30): DESIGN §7 records 90-day
 *   windows (API v2); 30 days satisfies both, see docs/providers.md.
 * - No webhooks: Pulse polls. Data arrives delayed (the receiver or phone uploads in batches;
 *   about an hour, longer outside the US), so an incremental sync must start at least a few hours
 *   before the last one's end, not at it; re-fetched EGVs map to the same `recordId`s and dedupe.
 */
import type { DriverContext, ProviderDriver, SyncCursor, TimeRange } from "../driver";
import { expectId, expectList, expectObject, providerGet } from "../http";
import { oauthMethods } from "../oauth";
import { PROVIDERS } from "../registry";
import { mapRecords, type ProviderRecord, type WalkPlan, type WalkStep, walkRange } from "../walk";
import { DEXCOM_MAPPINGS } from "./mapping";

const facts = PROVIDERS.dexcom;
const DEFAULT_HOST = facts.regions?.us ?? "https://api.dexcom.com";

export const DEXCOM_WALK: WalkPlan = { dataTypes: Object.keys(DEXCOM_MAPPINGS), windowDays: facts.sync.maxWindowDays };

/** How late readings can appear at Dexcom: sync ranges should overlap the previous one by this much. */
export const DEXCOM_DATA_DELAY_MS = 3 * 3_600_000;

function apiUrl(context: DriverContext, path: string): URL {
  return new URL(path, context.origin ?? DEFAULT_HOST);
}

/** Dexcom's date-time parameters: UTC, seconds, no offset. */
const dexcomTime = (date: Date) => date.toISOString().slice(0, 19);

async function profile(context: DriverContext, accessToken: string) {
  const body = await providerGet(apiUrl(context, "/v3/users/self/dataRange"), accessToken, "dexcom");
  return { providerUserId: expectId(expectObject(body, "dexcom", "a data range"), "userId", "dexcom"), timeZone: null };
}

async function fetchStep(context: DriverContext, accessToken: string, step: WalkStep) {
  const url = apiUrl(context, `/v3/users/self/${step.dataType}`);
  url.searchParams.set("startDate", dexcomTime(step.windowStart));
  url.searchParams.set("endDate", dexcomTime(step.windowEnd));
  return { items: expectList(await providerGet(url, accessToken, "dexcom"), "records", "dexcom"), pageToken: null };
}

export const dexcomDriver: ProviderDriver<ProviderRecord> = {
  name: "dexcom",
  facts,
  ...oauthMethods(facts),
  profile,
  fetchRange: (context: DriverContext, accessToken: string, range: TimeRange, cursor: SyncCursor | null) =>
    walkRange(range, cursor, DEXCOM_WALK, (step) => fetchStep(context, accessToken, step)),
  map: (records, timeZone) => mapRecords(records, DEXCOM_MAPPINGS, (_type, items) => [{ records: items }], timeZone),
};
