import { describe, expect, it } from "vitest";
import {
  mapSandboxGlucose,
  mapSandboxHeartRate,
  mapSandboxHrv,
  mapSandboxSleep,
  mapSandboxWorkouts,
  SANDBOX_DATA_TYPES,
  SANDBOX_MAPPINGS,
} from "../../src/providers/sandbox/mapping";
import { seriesOf } from "../../tools/sandbox-provider/data.ts";
import { FETCHED_AT, parseAsStore } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT, timeZone: "Europe/Berlin" };
const CET = 3600;

describe("sandbox mappings", () => {
  it("heart_rate: UTC samples dated in the person's zone, one record per instant, never revised", () => {
    const batch = mapSandboxHeartRate({ data: [{ timestamp: "2026-03-01T23:30:00.000Z", bpm: 54, source: "wrist" }] }, context);
    expect(batch.observations).toEqual([
      {
        metric: "heart_rate",
        start: Date.UTC(2026, 2, 1, 23, 30),
        end: Date.UTC(2026, 2, 1, 23, 30),
        value: 54,
        unit: "bpm",
        sourceKind: "provider",
        sourceApp: "sandbox",
        device: null,
        sourceRecordId: "heart_rate:2026-03-01T23:30:00.000Z",
        zoneOffsetSeconds: CET,
        // 00:30 in Berlin: the next local day.
        localDate: "2026-03-02",
        flagged: false,
        version: 0,
      },
    ]);
  });

  it("hrv: RMSSD in ms over the night, on the day the night ends", () => {
    const batch = mapSandboxHrv(
      {
        data: [
          {
            id: "hrv_20260301",
            day: "2026-03-02",
            start: "2026-03-01T23:10:00+01:00",
            end: "2026-03-02T06:40:00+01:00",
            rmssd_ms: 41.5,
          },
        ],
      },
      context,
    );
    expect(batch.observations[0]).toMatchObject({
      metric: "hrv_rmssd",
      value: 41.5,
      unit: "ms",
      start: Date.UTC(2026, 2, 1, 22, 10),
      end: Date.UTC(2026, 2, 2, 5, 40),
      localDate: "2026-03-02",
      sourceRecordId: "hrv:hrv_20260301",
    });
  });

  it("sleep: a session with its stages; an unknown stage rejects that night only", () => {
    const night = {
      id: "sleep_20260301",
      day: "2026-03-02",
      start: "2026-03-01T23:00:00+01:00",
      end: "2026-03-02T07:00:00+01:00",
      stages: [
        { stage: "awake", start: "2026-03-01T23:00:00+01:00", end: "2026-03-01T23:10:00+01:00" },
        { stage: "deep", start: "2026-03-01T23:10:00+01:00", end: "2026-03-02T07:00:00+01:00" },
      ],
    };
    const broken = { ...night, id: "sleep_broken", stages: [{ stage: "dreaming", start: night.start, end: night.end }] };
    const batch = mapSandboxSleep({ data: [night, broken] }, context);
    expect(batch.sleepSessions).toHaveLength(1);
    expect(batch.sleepSessions[0]).toMatchObject({
      sourceRecordId: "sleep:sleep_20260301",
      localDate: "2026-03-02",
      zoneOffsetSeconds: CET,
      stages: [
        { stage: "awake", start: Date.UTC(2026, 2, 1, 22, 0), end: Date.UTC(2026, 2, 1, 22, 10) },
        { stage: "deep", start: Date.UTC(2026, 2, 1, 22, 10), end: Date.UTC(2026, 2, 2, 6, 0) },
      ],
    });
    expect(batch.rejected).toEqual([
      { sourceRecordId: "sleep:sleep_broken", reason: "data[1]: stages[0].stage is not a known stage" },
    ]);
  });

  it("glucose: mg/dL as is, mmol/L converted; workouts with energy and distance", () => {
    const glucose = mapSandboxGlucose(
      {
        data: [
          { id: "egv_1", timestamp: "2026-03-01T08:00:00+01:00", value: 104, unit: "mg/dL", trend: "flat" },
          { id: "egv_2", timestamp: "2026-03-01T08:05:00+01:00", value: 6, unit: "mmol/L", trend: "rising" },
        ],
      },
      context,
    );
    expect(glucose.observations.map((o) => [o.metric, Math.round(o.value), o.unit])).toEqual([
      ["blood_glucose", 104, "mg/dL"],
      ["blood_glucose", 108, "mg/dL"],
    ]);
    const workouts = mapSandboxWorkouts(
      {
        data: [
          {
            id: "workout_1",
            activity: "running",
            start: "2026-03-01T18:00:00+01:00",
            end: "2026-03-01T18:45:00+01:00",
            calories_kcal: 480,
            distance_m: 7600,
            average_heart_rate: 150,
          },
        ],
      },
      context,
    );
    expect(workouts.workouts[0]).toMatchObject({
      sourceRecordId: "workout:workout_1",
      exerciseType: "running",
      localDate: "2026-03-01",
    });
    expect(workouts.observations.map((o) => [o.metric, o.value, o.unit])).toEqual([
      ["active_energy", 480, "kcal"],
      ["distance", 7600, "m"],
    ]);
  });

  it("maps six days of what the sandbox server generates without a rejection, storable as is", () => {
    const end = Date.UTC(2026, 2, 8);
    // Six days of minute samples stay under one HealthStore batch (10,000 observations).
    const window = { start: end - 6 * 86_400_000, end, availableUntil: end };
    for (const type of SANDBOX_DATA_TYPES) {
      const series = seriesOf({ userId: "sbx_mapping", timeZone: "Europe/Berlin" }, type, window);
      const data = Array.from({ length: series.count }, (_, index) => series.at(index));
      const batch = SANDBOX_MAPPINGS[type]({ data }, context);
      expect(batch.rejected, type).toEqual([]);
      expect(
        batch.observations.every((o) => !o.flagged),
        type,
      ).toBe(true);
      const stored = parseAsStore(batch);
      expect(stored.observations.length + stored.sleepSessions.length + stored.workouts.length, type).toBeGreaterThanOrEqual(
        series.count,
      );
    }
  });
});
