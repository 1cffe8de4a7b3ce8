import { describe, expect, it } from "vitest";
import { durationMs, mapPolarExercises, mapPolarNightlyRecharge } from "../../src/providers/polar/mapping";
import { mapStravaActivities } from "../../src/providers/strava/mapping";
import { FETCHED_AT, parseAsStore, providerFixture } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT };

describe("Strava v3 activities mapping", () => {
  it("workouts from start_date + elapsed_time, offset from start_date_local, distance, climb and HR", () => {
    const batch = mapStravaActivities(providerFixture("strava", "activities.json"), context);
    expect(batch.workouts[0]).toEqual({
      sourceKind: "provider",
      sourceApp: "strava",
      sourceRecordId: "activity:15000000001",
      version: FETCHED_AT,
      start: Date.UTC(2026, 2, 2, 14, 5),
      end: Date.UTC(2026, 2, 2, 14, 5) + 3125_000,
      zoneOffsetSeconds: -8 * 3600,
      localDate: "2026-03-02",
      title: "Synthetic morning run",
      notes: null,
      device: "Synthetic Watch 2",
      flagged: false,
      exerciseType: "running",
    });
    // Sydney: the ride starts on the 2nd in UTC but on the 3rd where it was ridden.
    expect(batch.workouts[1]).toMatchObject({
      exerciseType: "biking_stationary",
      zoneOffsetSeconds: 11 * 3600,
      localDate: "2026-03-03",
    });
    expect(batch.observations.map((o) => [o.sourceRecordId, o.metric, o.value, o.unit])).toEqual([
      ["activity:15000000001", "distance", 10012.4, "m"],
      ["activity:15000000001", "elevation_gained", 87.3, "m"],
      ["activity:15000000001", "heart_rate", 151.4, "bpm"],
      // No heart rate, and kilojoules (pedal work) are not energy burned.
      ["activity:15000000002", "distance", 30210, "m"],
      ["activity:15000000002", "elevation_gained", 0, "m"],
    ]);
    expect(batch.rejected).toEqual([
      { sourceRecordId: "activity:15000000003", reason: "activities[2]: elapsed_time is not a whole number of seconds" },
    ]);
    parseAsStore(batch);
  });
});

describe("Polar AccessLink mappings", () => {
  it("reads ISO 8601 durations", () => {
    expect(durationMs("PT1H4M45.5S", "d")).toBe(3_885_500);
    expect(durationMs("PT26H", "d")).toBe(93_600_000);
    expect(() => durationMs("PT", "d")).toThrow("d is not an ISO 8601 duration");
  });

  it("exercises: local start minus its UTC offset, duration, kcal, metres and average HR", () => {
    const batch = mapPolarExercises(providerFixture("polar", "exercises.json"), context);
    const start = Date.UTC(2026, 2, 2, 16, 40, 2);
    expect(batch.workouts[0]).toEqual({
      sourceKind: "provider",
      sourceApp: "polar",
      sourceRecordId: "exercise:synthetic-ex-2AC312F",
      version: 0,
      start,
      end: start + 3_885_500,
      zoneOffsetSeconds: 7200,
      localDate: "2026-03-02",
      title: "RUNNING",
      notes: null,
      device: "Polar Synthetic V3",
      flagged: false,
      exerciseType: "running",
    });
    // 26 hours is a forgotten stop button: kept, flagged; dated where it began (UTC-5).
    expect(batch.workouts[1]).toMatchObject({
      exerciseType: "other",
      flagged: true,
      localDate: "2026-03-03",
      start: Date.UTC(2026, 2, 3, 5, 30),
    });
    expect(batch.observations.map((o) => [o.metric, o.value, o.unit])).toEqual([
      ["total_energy", 640, "kcal"],
      ["distance", 12100.5, "m"],
      ["heart_rate", 142, "bpm"],
    ]);
    expect(batch.rejected).toEqual([
      { sourceRecordId: "exercise:synthetic-ex-2AC3131", reason: "exercises[2]: duration is not an ISO 8601 duration" },
    ]);
    parseAsStore(batch);
  });

  it("nightly recharge: HRV as RMSSD (ms), heart and breathing rate on the night's date", () => {
    const batch = mapPolarNightlyRecharge(providerFixture("polar", "nightly-recharge.json"), context);
    const common = {
      start: Date.UTC(2026, 2, 2),
      end: Date.UTC(2026, 2, 3) - 1,
      sourceRecordId: "nightly_recharge:2026-03-02",
      zoneOffsetSeconds: null,
      localDate: "2026-03-02",
      version: 0,
    };
    expect(batch.observations).toEqual([
      expect.objectContaining({ ...common, metric: "hrv_rmssd", value: 42, unit: "ms" }),
      expect.objectContaining({ ...common, metric: "heart_rate", value: 55, unit: "bpm" }),
      expect.objectContaining({ ...common, metric: "respiratory_rate", value: 14.1, unit: "breaths/min" }),
    ]);
    parseAsStore(batch);
  });
});
