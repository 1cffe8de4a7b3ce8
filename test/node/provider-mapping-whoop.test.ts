import { describe, expect, it } from "vitest";
import { mapWhoopCycles, mapWhoopRecovery, mapWhoopSleep, mapWhoopWorkouts } from "../../src/providers/whoop/mapping";
import { FETCHED_AT, parseAsStore, providerFixture } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT };
const fixture = (file: string) => providerFixture("whoop", file);
const EST = -5 * 3600;

describe("WHOOP v2 mappings", () => {
  it("recovery: resting HR (bpm), HRV RMSSD (ms) and SpO2 of scored cycles, versioned by updated_at", () => {
    const batch = mapWhoopRecovery(fixture("recovery.json"), { ...context, timeZone: "America/New_York" });
    const at = Date.parse("2026-03-02T11:25:44.774Z");
    const common = {
      start: at,
      end: at,
      sourceKind: "provider",
      sourceApp: "whoop",
      device: null,
      sourceRecordId: "recovery:93845",
      zoneOffsetSeconds: EST,
      localDate: "2026-03-02",
      flagged: false,
      version: Date.parse("2026-03-02T14:25:44.774Z"),
    };
    expect(batch.observations).toEqual([
      { ...common, metric: "resting_heart_rate", value: 64, unit: "bpm" },
      { ...common, metric: "hrv_rmssd", value: 31.813562, unit: "ms" },
      { ...common, metric: "oxygen_saturation", value: 95.6875, unit: "%" },
    ]);
    // The pending recovery has nothing to store yet, and is not an error.
    expect(batch.rejected).toEqual([]);
    expect(parseAsStore(batch).observations).toHaveLength(3);
  });

  it("sleep: a session at the member's offset, dated by its morning, with respiratory rate", () => {
    const batch = mapWhoopSleep(fixture("sleep.json"), context);
    expect(batch.sleepSessions).toEqual([
      {
        sourceKind: "provider",
        sourceApp: "whoop",
        sourceRecordId: "sleep:00000000-0000-4000-8000-000000000001",
        version: Date.parse("2026-03-02T14:25:44.774Z"),
        start: Date.UTC(2026, 2, 2, 3, 10),
        end: Date.UTC(2026, 2, 2, 11, 5),
        zoneOffsetSeconds: EST,
        localDate: "2026-03-02",
        title: null,
        notes: null,
        device: null,
        flagged: false,
        stages: [],
      },
    ]);
    expect(batch.observations.map((o) => [o.metric, o.value, o.unit])).toEqual([
      ["respiratory_rate", 16.11328125, "breaths/min"],
    ]);
    parseAsStore(batch);
  });

  it("cycle: kilojoules become kcal; an open cycle runs to the fetch and is versioned by it", () => {
    const batch = mapWhoopCycles(fixture("cycle.json"), context);
    const [energy, heart, openEnergy] = batch.observations;
    expect(energy).toMatchObject({
      metric: "total_energy",
      unit: "kcal",
      sourceRecordId: "cycle:93845",
      start: Date.UTC(2026, 2, 1, 11, 5),
      end: Date.UTC(2026, 2, 2, 11, 5),
      zoneOffsetSeconds: EST,
      localDate: "2026-03-01",
    });
    expect(energy?.value).toBeCloseTo(8288.297 / 4.184, 9);
    expect(energy?.value).toBeCloseTo(1980.95, 2);
    expect(heart).toMatchObject({ metric: "heart_rate", value: 68, unit: "bpm" });
    expect(openEnergy).toMatchObject({ sourceRecordId: "cycle:93846", end: FETCHED_AT, version: FETCHED_AT });
    expect(openEnergy?.value).toBeCloseTo(100, 9);
    parseAsStore(batch);
  });

  it("workout: sport, kJ → kcal, metres, climb and average HR; a workout ending before it starts is rejected", () => {
    const batch = mapWhoopWorkouts(fixture("workout.json"), context);
    expect(batch.workouts).toEqual([
      expect.objectContaining({
        sourceRecordId: "workout:00000000-0000-4000-8000-0000000000a1",
        exerciseType: "running",
        title: "running",
        start: Date.UTC(2026, 2, 1, 22),
        end: Date.UTC(2026, 2, 1, 23, 2),
        zoneOffsetSeconds: EST,
        localDate: "2026-03-01",
      }),
    ]);
    expect(batch.observations.map((o) => [o.metric, Number(o.value.toFixed(3)), o.unit])).toEqual([
      ["total_energy", 375.081, "kcal"],
      ["distance", 10030.5, "m"],
      ["elevation_gained", 46.64, "m"],
      ["heart_rate", 123, "bpm"],
    ]);
    expect(batch.rejected).toEqual([
      { sourceRecordId: "workout:00000000-0000-4000-8000-0000000000a2", reason: "records[1]: workout ends before it starts" },
    ]);
    parseAsStore(batch);
  });
});
