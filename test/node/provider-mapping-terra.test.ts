import { describe, expect, it } from "vitest";
import { mapTerraActivity, mapTerraBody, mapTerraDaily, mapTerraSleep } from "../../src/providers/terra/mapping";
import { FETCHED_AT, parseAsStore, providerFixture } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT };
const fixture = (file: string) => providerFixture("terra", file);
const rows = (batch: ReturnType<typeof mapTerraBody>) => batch.observations.map((o) => [o.metric, o.value, o.unit, o.flagged]);

describe("Terra normalized payload mappings", () => {
  it("body: HR samples, RMSSD and SDNN as two metrics, BP, glucose, SpO2, temperature, weight and fat", () => {
    const batch = mapTerraBody(fixture("body.json"), context);
    expect(rows(batch)).toEqual([
      ["heart_rate", 62, "bpm", false],
      ["hrv_rmssd", 44.1, "ms", false],
      ["hrv_sdnn", 71.3, "ms", false],
      ["resting_heart_rate", 54, "bpm", false],
      ["blood_pressure_systolic", 121, "mmHg", false],
      ["blood_pressure_diastolic", 79, "mmHg", false],
      // 704 mg/dL is beyond any meter: kept, flagged.
      ["blood_glucose", 704, "mg/dL", true],
      ["oxygen_saturation", 97, "%", false],
      ["body_temperature", 36.7, "°C", false],
      ["weight", 72.4, "kg", false],
      ["body_fat", 21.2, "%", false],
    ]);
    expect(batch.observations[0]).toEqual({
      metric: "heart_rate",
      start: Date.UTC(2026, 2, 2, 6),
      end: Date.UTC(2026, 2, 2, 6),
      value: 62,
      unit: "bpm",
      sourceKind: "provider",
      sourceApp: "terra",
      device: "Synthetic Scale",
      sourceRecordId: "body:WITHINGS:2026-03-02T00:00:00.000000+01:00",
      zoneOffsetSeconds: 3600,
      localDate: "2026-03-02",
      flagged: false,
      version: FETCHED_AT,
    });
    expect(parseAsStore(batch).observations).toHaveLength(11);
  });

  it("daily: steps, metres, floors, total and active kcal over the day; summary HRV of each kind when no samples", () => {
    const batch = mapTerraDaily(fixture("daily.json"), context);
    expect(rows(batch)).toEqual([
      ["steps", 10234, "count", false],
      ["distance", 7812.5, "m", false],
      ["floors", 9, "count", false],
      ["total_energy", 2412, "kcal", false],
      ["active_energy", 603, "kcal", false],
      ["heart_rate", 58, "bpm", false],
      ["heart_rate", 25, "bpm", true],
      ["resting_heart_rate", 52, "bpm", false],
      ["hrv_rmssd", 38, "ms", false],
      ["hrv_sdnn", 61, "ms", false],
    ]);
    // 23:59 in New York is already the 3rd in UTC; it still belongs to the 2nd.
    expect(batch.observations[5]).toMatchObject({ zoneOffsetSeconds: -18000, localDate: "2026-03-02" });
    expect(batch.observations[0]).toMatchObject({
      start: Date.UTC(2026, 2, 2, 5),
      end: Date.UTC(2026, 2, 3, 5),
      sourceRecordId: "daily:GARMIN:2026-03-02T00:00:00.000000-05:00",
    });
    parseAsStore(batch);
  });

  it("sleep: the hypnogram as stages ending at the next sample, RMSSD samples, dated by its morning", () => {
    const batch = mapTerraSleep(fixture("sleep.json"), context);
    const at = (hh: number, mm: number, day = 2) => Date.UTC(2026, 2, day, hh, mm);
    expect(batch.sleepSessions).toEqual([
      {
        sourceKind: "provider",
        sourceApp: "terra",
        sourceRecordId: "sleep:OURA:synthetic-sleep-1",
        version: FETCHED_AT,
        start: at(4, 0),
        end: at(11, 30),
        zoneOffsetSeconds: -18000,
        localDate: "2026-03-02",
        title: null,
        notes: null,
        device: null,
        flagged: false,
        stages: [
          { stage: "awake", start: at(4, 0), end: at(4, 20) },
          { stage: "light", start: at(4, 20), end: at(6, 0) },
          { stage: "deep", start: at(6, 0), end: at(7, 30) },
          { stage: "rem", start: at(7, 30), end: at(11, 10) },
          { stage: "awake", start: at(11, 10), end: at(11, 30) },
        ],
      },
    ]);
    expect(rows(batch)).toEqual([
      ["hrv_rmssd", 49, "ms", false],
      ["hrv_rmssd", 55, "ms", false],
      ["resting_heart_rate", 47, "bpm", false],
    ]);
    parseAsStore(batch);
  });

  it("activity: a workout of its type with distance, steps, kcal, HR and SDNN (never relabelled RMSSD)", () => {
    const batch = mapTerraActivity(fixture("activity.json"), context);
    expect(batch.workouts).toEqual([
      expect.objectContaining({
        sourceRecordId: "activity:POLAR:synthetic-activity-1",
        exerciseType: "running",
        title: "Synthetic lunch run",
        start: Date.UTC(2026, 2, 2, 3),
        end: Date.UTC(2026, 2, 2, 3, 45),
        zoneOffsetSeconds: 9 * 3600,
        localDate: "2026-03-02",
      }),
    ]);
    expect(rows(batch)).toEqual([
      ["distance", 8012, "m", false],
      ["steps", 7420, "count", false],
      ["total_energy", 480, "kcal", false],
      ["heart_rate", 150, "bpm", false],
      ["hrv_sdnn", 21.5, "ms", false],
    ]);
    expect(batch.rejected).toEqual([
      {
        sourceRecordId: "activity:POLAR:synthetic-activity-2",
        reason: "data[1]: metadata.start_time is not an ISO 8601 timestamp",
      },
    ]);
    parseAsStore(batch);
  });

  it("sleep: a stage outside its night is kept and flags the night", () => {
    const payload = structuredClone(fixture("sleep.json")) as {
      data: { sleep_durations_data: { hypnogram_samples: unknown[] } }[];
    };
    payload.data[0]?.sleep_durations_data.hypnogram_samples.unshift({ timestamp: "2026-03-01T22:00:00.000000-05:00", level: 1 });
    const [night] = mapTerraSleep(payload, context).sleepSessions;
    expect(night?.flagged).toBe(true);
    expect(night?.stages[0]).toEqual({ stage: "awake", start: Date.UTC(2026, 2, 2, 3), end: Date.UTC(2026, 2, 2, 4) });
  });

  it("refuses a payload of another data type instead of misreading it", () => {
    expect(mapTerraDaily(fixture("sleep.json"), context)).toEqual({
      observations: [],
      sleepSessions: [],
      workouts: [],
      rejected: [{ sourceRecordId: null, reason: "payload type is not daily" }],
    });
  });
});
