import { describe, expect, it } from "vitest";
import { DEXCOM_MAPPINGS } from "../../src/providers/dexcom/mapping";
import { GOOGLE_HEALTH_MAPPINGS } from "../../src/providers/google-health/mapping";
import type { ProviderMapping } from "../../src/providers/mapping/types";
import { OURA_MAPPINGS } from "../../src/providers/oura/mapping";
import { POLAR_MAPPINGS } from "../../src/providers/polar/mapping";
import { STRAVA_MAPPINGS } from "../../src/providers/strava/mapping";
import { TERRA_MAPPINGS } from "../../src/providers/terra/mapping";
import { WHOOP_MAPPINGS } from "../../src/providers/whoop/mapping";
import { WITHINGS_MAPPINGS } from "../../src/providers/withings/mapping";
import { FETCHED_AT } from "../support/provider-mapping";

const EMPTY = { observations: [], sleepSessions: [], workouts: [], rejected: [] };

/** The last page of a sync is often empty: each data type's empty page, as its provider writes it. */
const EMPTY_PAGES: [string, ProviderMapping, unknown][] = [
  ...Object.entries(OURA_MAPPINGS).map(([type, map]): [string, ProviderMapping, unknown] => [
    `oura ${type}`,
    map,
    { data: [], next_token: null },
  ]),
  ...Object.entries(WHOOP_MAPPINGS).map(([type, map]): [string, ProviderMapping, unknown] => [
    `whoop ${type}`,
    map,
    { records: [], next_token: null },
  ]),
  ["dexcom egvs", DEXCOM_MAPPINGS.egvs, { recordType: "egv", recordVersion: "3.0", userId: "u", records: [] }],
  [
    "withings measure",
    WITHINGS_MAPPINGS.measure,
    { status: 0, body: { updatetime: 1, timezone: "Europe/Paris", measuregrps: [], more: 0, offset: 0 } },
  ],
  ["withings sleep_summary", WITHINGS_MAPPINGS.sleep_summary, { status: 0, body: { series: [], more: false, offset: 0 } }],
  ["strava activities", STRAVA_MAPPINGS.activities, []],
  ["polar exercises", POLAR_MAPPINGS.exercises, []],
  ["polar nightly_recharge", POLAR_MAPPINGS.nightly_recharge, { recharges: [] }],
  ...Object.entries(TERRA_MAPPINGS).map(([type, map]): [string, ProviderMapping, unknown] => [
    `terra ${type}`,
    map,
    { type, user: { provider: "GARMIN" }, data: [] },
  ]),
  ["google_health data_points", GOOGLE_HEALTH_MAPPINGS.data_points, { nextPageToken: "" }],
];

describe("provider mapping tables", () => {
  it.each(EMPTY_PAGES)("%s: an empty page maps to an empty batch, not a rejection", (_name, map, page) => {
    expect(map(page, { fetchedAt: FETCHED_AT })).toEqual(EMPTY);
  });

  it.each(EMPTY_PAGES)("%s: a payload that is not the documented shape is reported, not thrown", (_name, map) => {
    const batch = map("<html>502 Bad Gateway</html>", { fetchedAt: FETCHED_AT });
    expect(batch.observations).toEqual([]);
    expect(batch.rejected).toHaveLength(1);
  });
});
