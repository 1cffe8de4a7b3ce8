import { describe, expect, it } from "vitest";
import {
  mapOuraDailyActivity,
  mapOuraDailySpo2,
  mapOuraHeartRate,
  mapOuraSleep,
  mapOuraWorkouts,
} from "../../src/providers/oura/mapping";
import { FETCHED_AT, parseAsStore, providerFixture } from "../support/provider-mapping";

const context = { fetchedAt: FETCHED_AT };
const fixture = (file: string) => providerFixture("oura", file);
const EST = -5 * 3600;

describe("Oura v2 mappings", () => {
  it("daily_activity: steps, active and total kcal for Oura's day, versioned by fetch time", () => {
    const batch = mapOuraDailyActivity(fixture("daily_activity.json"), context);
    const dayStart = Date.UTC(2026, 2, 1, 9);
    expect(batch.observations.slice(0, 3)).toEqual(
      [
        ["steps", 9321, "count"],
        ["active_energy", 412, "kcal"],
        ["total_energy", 2480, "kcal"],
      ].map(([metric, value, unit]) => ({
        metric,
        start: dayStart,
        end: dayStart + 86_400_000,
        value,
        unit,
        sourceKind: "provider",
        sourceApp: "oura",
        device: null,
        sourceRecordId: "daily_activity:synthetic-daily-activity-0301",
        zoneOffsetSeconds: EST,
        localDate: "2026-03-01",
        flagged: false,
        version: FETCHED_AT,
      })),
    );
    // 250,000 steps in a day is implausible: kept and flagged; absent calories are not zeros.
    expect(batch.observations.slice(3)).toEqual([
      expect.objectContaining({ metric: "steps", value: 250_000, flagged: true, localDate: "2026-03-02" }),
    ]);
    expect(batch.rejected).toEqual([
      { sourceRecordId: "daily_activity:synthetic-daily-activity-broken", reason: "data[2]: steps is missing or not a number" },
    ]);
    expect(parseAsStore(batch).observations).toHaveLength(4);
  });

  it("daily_activity: a later fetch of the same day is a higher version of the same record", () => {
    const early = mapOuraDailyActivity(fixture("daily_activity.json"), context).observations[0];
    const later = mapOuraDailyActivity(fixture("daily_activity.json"), { fetchedAt: FETCHED_AT + 60_000 }).observations[0];
    expect(later?.sourceRecordId).toBe(early?.sourceRecordId);
    expect(later?.version).toBeGreaterThan(early?.version ?? Number.POSITIVE_INFINITY);
  });

  it("heartrate: UTC samples, dated in the person's zone when known, one record per instant", () => {
    const utc = mapOuraHeartRate(fixture("heartrate.json"), context);
    expect(utc.observations[0]).toEqual({
      metric: "heart_rate",
      start: Date.UTC(2026, 2, 2, 3, 30),
      end: Date.UTC(2026, 2, 2, 3, 30),
      value: 58,
      unit: "bpm",
      sourceKind: "provider",
      sourceApp: "oura",
      device: null,
      sourceRecordId: "heartrate:2026-03-02T03:30:00.000Z",
      zoneOffsetSeconds: null,
      localDate: "2026-03-02",
      flagged: false,
      version: 0,
    });
    const zoned = mapOuraHeartRate(fixture("heartrate.json"), { ...context, timeZone: "America/New_York" });
    expect(zoned.observations.map((o) => [o.zoneOffsetSeconds, o.localDate, o.flagged])).toEqual([
      [EST, "2026-03-01", false],
      [EST, "2026-03-01", false],
      [EST, "2026-03-02", true],
    ]);
    expect(parseAsStore(zoned).observations).toHaveLength(3);
  });

  it("sleep: a session on Oura's day with 5-minute stages, average HR and HRV as RMSSD in ms", () => {
    const batch = mapOuraSleep(fixture("sleep.json"), context);
    const bed = Date.UTC(2026, 2, 2, 4);
    const min = 60_000;
    expect(batch.sleepSessions).toEqual([
      {
        sourceKind: "provider",
        sourceApp: "oura",
        sourceRecordId: "sleep:synthetic-sleep-0302",
        version: FETCHED_AT,
        start: bed,
        end: Date.UTC(2026, 2, 2, 11, 30),
        zoneOffsetSeconds: EST,
        localDate: "2026-03-02",
        title: null,
        notes: null,
        device: null,
        flagged: false,
        stages: [
          { stage: "awake", start: bed, end: bed + 10 * min },
          { stage: "light", start: bed + 10 * min, end: bed + 20 * min },
          { stage: "deep", start: bed + 20 * min, end: bed + 35 * min },
          { stage: "rem", start: bed + 35 * min, end: bed + 45 * min },
        ],
      },
    ]);
    expect(batch.observations.map((o) => [o.metric, o.value, o.unit, o.sourceRecordId])).toEqual([
      ["heart_rate", 52.25, "bpm", "sleep:synthetic-sleep-0302"],
      ["hrv_rmssd", 48, "ms", "sleep:synthetic-sleep-0302"],
    ]);
    expect(batch.observations.some((o) => o.metric === "hrv_sdnn")).toBe(false);
    const parsed = parseAsStore(batch);
    expect(parsed.sleepSessions[0]?.stages).toHaveLength(4);
  });

  it("sleep: an unknown hypnogram phase rejects the night, naming the field", () => {
    const payload = structuredClone(fixture("sleep.json")) as { data: { sleep_phase_5_min: string }[] };
    if (payload.data[0]) payload.data[0].sleep_phase_5_min = "44x2";
    expect(mapOuraSleep(payload, context)).toMatchObject({
      sleepSessions: [],
      observations: [],
      rejected: [
        { sourceRecordId: "sleep:synthetic-sleep-0302", reason: "data[0]: sleep_phase_5_min has an unknown phase at 2" },
      ],
    });
  });

  it("daily_spo2: the night's average on its day; a day without a reading stores nothing", () => {
    const batch = mapOuraDailySpo2(fixture("daily_spo2.json"), context);
    expect(batch.observations).toEqual([
      expect.objectContaining({
        metric: "oxygen_saturation",
        value: 96.375,
        unit: "%",
        start: Date.UTC(2026, 2, 2),
        zoneOffsetSeconds: null,
        localDate: "2026-03-02",
        sourceRecordId: "daily_spo2:synthetic-spo2-0302",
      }),
    ]);
    expect(batch.rejected).toEqual([]);
    parseAsStore(batch);
  });

  it("workout: exercise type, title, kcal and metres; an unknown activity is `other`", () => {
    const batch = mapOuraWorkouts(fixture("workout.json"), context);
    expect(batch.workouts.map((w) => [w.sourceRecordId, w.exerciseType, w.title, w.localDate, w.zoneOffsetSeconds])).toEqual([
      ["workout:synthetic-workout-0301", "biking", "Evening ride", "2026-03-01", EST],
      ["workout:synthetic-workout-0302", "other", null, "2026-03-02", EST],
    ]);
    expect(batch.workouts[0]).toMatchObject({ start: Date.UTC(2026, 2, 1, 23), end: Date.UTC(2026, 2, 2, 0, 5) });
    expect(batch.observations.map((o) => [o.metric, o.value, o.unit])).toEqual([
      ["active_energy", 520.5, "kcal"],
      ["distance", 21450, "m"],
    ]);
    expect(parseAsStore(batch).workouts).toHaveLength(2);
  });
});
