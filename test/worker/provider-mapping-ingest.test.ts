import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { Observation, StoreAuditContext } from "../../durable-objects/health-store/schema";
import { newId } from "../../src/db/ids";
import { mapDexcomEgvs } from "../../src/providers/dexcom/mapping";
import type { ProviderBatch } from "../../src/providers/mapping/types";
import { mapOuraDailyActivity, mapOuraSleep } from "../../src/providers/oura/mapping";
import { mapTerraBody } from "../../src/providers/terra/mapping";
import { mapWhoopWorkouts } from "../../src/providers/whoop/mapping";
import ouraDailyActivity from "../fixtures/providers/oura/daily_activity.json";
import ouraSleep from "../fixtures/providers/oura/sleep.json";
import terraBody from "../fixtures/providers/terra/body.json";
import whoopWorkouts from "../fixtures/providers/whoop/workout.json";

/**
 * Provider mappings against a real HealthStore in workerd: what they emit is stored as is, a
 * re-sync changes nothing, and a later fetch of a revised document replaces the earlier one.
 */
const FETCHED_AT = Date.UTC(2026, 2, 2, 12);

function freshStore() {
  const userId = newId("usr");
  const audit: StoreAuditContext = {
    actor: "sync",
    role: "system",
    subject: userId,
    reason: null,
    requestId: "req-sync",
    ip: null,
  };
  return { store: healthStoreFor(env.HEALTH_STORE, userId), audit };
}

/** Raw rows (no bucket was asked for). */
function rows(page: { items: readonly object[] }): Observation[] {
  return page.items.filter((item): item is Observation => "sourceRecordId" in item);
}

function batchOf(mapped: ProviderBatch) {
  return { observations: mapped.observations, sleepSessions: mapped.sleepSessions, workouts: mapped.workouts };
}

describe("provider mappings ingested by the HealthStore", () => {
  it("stores the Dexcom contract example in mg/dL and a re-sync is all duplicates", async () => {
    const { store, audit } = freshStore();
    const mapped = mapDexcomEgvs(JSON.parse(env.TEST_DEXCOM_EGVS_EXAMPLE), { fetchedAt: FETCHED_AT });
    const first = await store.ingestBatch(batchOf(mapped), audit);
    const again = await store.ingestBatch(
      batchOf(mapDexcomEgvs(JSON.parse(env.TEST_DEXCOM_EGVS_EXAMPLE), { fetchedAt: FETCHED_AT + 1 })),
      audit,
    );

    expect(first.observations).toEqual({ accepted: 1, duplicate: 0, replaced: 0 });
    expect(again.observations).toEqual({ accepted: 0, duplicate: 1, replaced: 0 });
    const page = await store.queryObservations({}, audit);
    expect(
      rows(page).map((o) => [o.metric, o.value, o.unit, o.sourceApp, o.sourceRecordId, o.localDate, o.zoneOffsetSeconds]),
    ).toEqual([["blood_glucose", 112, "mg/dL", "dexcom", "egv:0b3c3a6e-6d5c-4a1f-9b7e-2f0f2d6d9a01", "2025-02-06", -18000]]);
  });

  it("replaces an Oura day with a later fetch, and ignores a replayed older one", async () => {
    const { store, audit } = freshStore();
    const at = (fetchedAt: number) => batchOf(mapOuraDailyActivity(ouraDailyActivity, { fetchedAt }));
    const first = await store.ingestBatch(at(FETCHED_AT), audit);
    const later = await store.ingestBatch(at(FETCHED_AT + 3_600_000), audit);
    const replayed = await store.ingestBatch(at(FETCHED_AT), audit);

    expect(first.observations).toEqual({ accepted: 4, duplicate: 0, replaced: 0 });
    expect(later.observations.replaced).toBeGreaterThan(0);
    expect(later.observations.accepted + later.observations.replaced).toBe(4);
    expect(replayed.observations).toEqual({ accepted: 0, duplicate: 4, replaced: 0 });
    const page = await store.queryObservations({}, audit);
    expect(page.items).toHaveLength(4);
    expect(new Set(rows(page).map((o) => o.version))).toEqual(new Set([FETCHED_AT + 3_600_000]));
    expect(rows(page).find((o) => o.value === 250_000)?.flagged).toBe(true);
  });

  it("stores Oura sleep with stages, WHOOP workouts and Terra's two HRV kinds as distinct metrics", async () => {
    const { store, audit } = freshStore();
    const result = await store.ingestBatch(
      {
        observations: [
          ...mapOuraSleep(ouraSleep, { fetchedAt: FETCHED_AT }).observations,
          ...mapTerraBody(terraBody, { fetchedAt: FETCHED_AT }).observations,
          ...mapWhoopWorkouts(whoopWorkouts, { fetchedAt: FETCHED_AT }).observations,
        ],
        sleepSessions: mapOuraSleep(ouraSleep, { fetchedAt: FETCHED_AT }).sleepSessions,
        workouts: mapWhoopWorkouts(whoopWorkouts, { fetchedAt: FETCHED_AT }).workouts,
      },
      audit,
    );
    expect(result).toEqual({
      observations: { accepted: 17, duplicate: 0, replaced: 0 },
      sleepSessions: { accepted: 1, duplicate: 0, replaced: 0 },
      workouts: { accepted: 1, duplicate: 0, replaced: 0 },
      narrativesRefresh: true,
    });
    const hrv = await store.queryObservations({ metrics: ["hrv_rmssd", "hrv_sdnn"] }, audit);
    expect(
      rows(hrv)
        .map((o) => [o.metric, o.value, o.sourceApp])
        .sort(),
    ).toEqual([
      ["hrv_rmssd", 44.1, "terra"],
      ["hrv_rmssd", 48, "oura"],
      ["hrv_sdnn", 71.3, "terra"],
    ]);
  });
});
