import { describe, expect, it } from "vitest";
import { mapRecord, mapRecords } from "../../src/health-connect/map-record";
import type { RecordType } from "../../src/health-connect/record-types";

// Plausibility flags, rejected records and local-date attribution of the Health Connect mapping.
const metadata = {
  id: "rec-1",
  dataOriginPackageName: "com.example.app",
  lastModifiedTimeEpochMillis: 5,
  clientRecordVersion: 0,
  device: null,
};
const T = Date.UTC(2025, 9, 9, 12, 0);
const HOUR = 3_600_000;

const at = (fields: Record<string, unknown>) => ({ metadata, timeEpochMillis: T, zoneOffsetId: null, ...fields });
const span = (fields: Record<string, unknown>, start = T, end = T + HOUR) => ({
  metadata,
  startTimeEpochMillis: start,
  endTimeEpochMillis: end,
  startZoneOffsetId: null,
  endZoneOffsetId: null,
  ...fields,
});
const heartRate = (...bpm: number[]) =>
  span({ samples: bpm.map((beatsPerMinute, i) => ({ timeEpochMillis: T + i * 1000, beatsPerMinute })) });
const flags = (type: RecordType, record: unknown) => mapRecord(type, record).observations.map((obs) => [obs.value, obs.flagged]);

describe("plausibility flags: out-of-range values are kept and flagged", () => {
  it("heart rate 30–220 bpm", () => {
    expect(flags("HeartRate", heartRate(29, 30, 220, 221))).toEqual([
      [29, true],
      [30, false],
      [220, false],
      [221, true],
    ]);
  });

  it("glucose 20–600 mg/dL", () => {
    const glucose = (level: number) =>
      at({ levelInMilligramsPerDeciliter: level, specimenSource: "UNKNOWN", mealType: "UNKNOWN", relationToMeal: "UNKNOWN" });
    expect(mapRecords("BloodGlucose", [19.9, 20, 600, 600.1].map(glucose)).observations.map((obs) => obs.flagged)).toEqual([
      true,
      false,
      false,
      true,
    ]);
  });

  it("steps 0–100,000 per record", () => {
    expect(
      mapRecords(
        "Steps",
        [-1, 0, 100_000, 100_001].map((count) => span({ count })),
      ).observations.map((obs) => obs.flagged),
    ).toEqual([true, false, false, true]);
  });

  it("active energy 0–10,000 kcal", () => {
    const energy = (kcal: number) => span({ energyInKilocalories: kcal });
    expect(mapRecords("ActiveCaloriesBurned", [10_000, 10_000.5].map(energy)).observations.map((obs) => obs.flagged)).toEqual([
      false,
      true,
    ]);
  });

  it("RMSSD 1–300 ms", () => {
    const rmssd = (ms: number) => at({ heartRateVariabilityRmssd: ms });
    expect(
      mapRecords("HeartRateVariabilityRmssd", [0.9, 1, 300, 300.1].map(rmssd)).observations.map((obs) => obs.flagged),
    ).toEqual([true, false, false, true]);
  });

  it("flags only the implausible half of a blood pressure pair", () => {
    const pressure = at({ systolic: 280, diastolic: 90, bodyPosition: "UNKNOWN", measurementLocation: "UNKNOWN" });
    expect(mapRecord("BloodPressure", pressure).observations.map((obs) => [obs.metric, obs.flagged])).toEqual([
      ["blood_pressure_systolic", true],
      ["blood_pressure_diastolic", false],
    ]);
  });

  it("flags a sample outside its record's span", () => {
    const record = span({ samples: [{ timeEpochMillis: T + 2 * HOUR, beatsPerMinute: 70 }] });
    expect(flags("HeartRate", record)).toEqual([[70, true]]);
  });

  it("sleep 0.5–16 h, and stages outside the night", () => {
    const night = (minutes: number, stages: unknown[] = []) => span({ stages }, T, T + minutes * 60_000);
    const nights = mapRecords("SleepSession", [night(29), night(30), night(16 * 60), night(16 * 60 + 1)]).sleepSessions;
    expect(nights.map((n) => n.flagged)).toEqual([true, false, false, true]);
    const stray = night(60, [{ startTimeEpochMillis: T - 60_000, endTimeEpochMillis: T + 60_000, stage: "LIGHT" }]);
    expect(mapRecord("SleepSession", stray).sleepSessions[0]?.flagged).toBe(true);
  });

  it("workouts over 24 hours", () => {
    const workout = (hours: number) => span({ exerciseType: "WALKING" }, T, T + hours * HOUR);
    expect(mapRecords("ExerciseSession", [workout(24), workout(25)]).workouts.map((w) => w.flagged)).toEqual([false, true]);
  });
});

describe("rejected records: reported with a reason, never thrown", () => {
  const rejection = (type: RecordType, record: unknown) => {
    const mapped = mapRecord(type, record);
    expect(mapped.observations.length + mapped.sleepSessions.length + mapped.workouts.length).toBe(0);
    return mapped.rejected;
  };

  it.each([
    ["end before start", "Steps", span({ count: 10 }, T, T - 1), "endTimeEpochMillis is before startTimeEpochMillis"],
    ["a NaN value", "Weight", at({ weightInKilograms: Number.NaN }), "weightInKilograms is not a finite number"],
    [
      "an infinite value",
      "Distance",
      span({ distanceInMeters: Number.POSITIVE_INFINITY }),
      "distanceInMeters is not a finite number",
    ],
    ["a missing value", "Height", at({}), "heightInMeters is missing or not a number"],
    [
      "a fractional instant",
      "Height",
      at({ heightInMeters: 1.7, timeEpochMillis: T + 0.5 }),
      "timeEpochMillis is not an instant between 1970 and 9999",
    ],
    ["a non-finite sample", "HeartRate", heartRate(60, Number.NaN), "samples[1].beatsPerMinute is not a finite number"],
    ["a sample that is not a record", "Speed", span({ samples: [null] }), "samples[0] is not a record"],
    [
      "a stage ending before it starts",
      "SleepSession",
      span({ stages: [{ startTimeEpochMillis: T + 2, endTimeEpochMillis: T + 1, stage: "REM" }] }),
      "stages[0].endTimeEpochMillis is before stages[0].startTimeEpochMillis",
    ],
    ["a missing exercise type", "ExerciseSession", span({}), "exerciseType is missing"],
    [
      "a negative version",
      "BodyFat",
      { ...at({ percentage: 20 }), metadata: { ...metadata, lastModifiedTimeEpochMillis: -1 } },
      "metadata.lastModifiedTimeEpochMillis is not a non-negative integer",
    ],
    [
      "an empty package name",
      "BodyFat",
      { ...at({ percentage: 20 }), metadata: { ...metadata, dataOriginPackageName: "" } },
      "metadata.dataOriginPackageName is missing or empty",
    ],
  ] as const)("%s", (_name, type, record, reason) => {
    expect(rejection(type, record)).toEqual([{ sourceRecordId: "rec-1", reason }]);
  });

  it("reports records without readable metadata with a null id", () => {
    expect(rejection("Weight", null)).toEqual([{ sourceRecordId: null, reason: "record is not a record" }]);
    expect(rejection("Weight", { weightInKilograms: 70, timeEpochMillis: T })).toEqual([
      { sourceRecordId: null, reason: "metadata is not a record" },
    ]);
    expect(rejection("Weight", { ...at({ weightInKilograms: 70 }), metadata: { ...metadata, id: "x".repeat(257) } })).toEqual([
      { sourceRecordId: "x".repeat(256), reason: "metadata.id is longer than 256 characters" },
    ]);
  });

  it("rejects a night with more stages than the store keeps", () => {
    const stages = Array.from({ length: 2_001 }, (_, i) => ({
      startTimeEpochMillis: T + i,
      endTimeEpochMillis: T + i + 1,
      stage: "LIGHT",
    }));
    expect(rejection("SleepSession", span({ stages }))).toEqual([
      { sourceRecordId: "rec-1", reason: "stages has more than 2000 entries" },
    ]);
  });
});

describe("local date attribution", () => {
  const weight = (time: number, zoneOffsetId: string | null) =>
    at({ timeEpochMillis: time, zoneOffsetId, weightInKilograms: 70 });
  const placed = (record: unknown) => {
    const [obs] = mapRecord("Weight", record).observations;
    return [obs?.start, obs?.zoneOffsetSeconds, obs?.localDate];
  };

  it("keeps the UTC instant and dates it at instant + offset", () => {
    const lateUtc = Date.UTC(2025, 9, 8, 22, 30);
    expect(placed(weight(lateUtc, "+02:00"))).toEqual([lateUtc, 7200, "2025-10-09"]);
    expect(placed(weight(lateUtc, "-05:00"))).toEqual([lateUtc, -18000, "2025-10-08"]);
    expect(placed(weight(Date.UTC(2025, 9, 9, 3, 0), "-05:00"))).toEqual([Date.UTC(2025, 9, 9, 3, 0), -18000, "2025-10-08"]);
    expect(placed(weight(Date.UTC(2025, 9, 9, 18, 30), "+05:30"))).toEqual([Date.UTC(2025, 9, 9, 18, 30), 19800, "2025-10-10"]);
    expect(placed(weight(Date.UTC(2025, 9, 9, 23, 59), "Z"))).toEqual([Date.UTC(2025, 9, 9, 23, 59), 0, "2025-10-09"]);
  });

  it("falls back to UTC when the offset is absent or unreadable", () => {
    const lateUtc = Date.UTC(2025, 11, 31, 23, 30);
    expect(placed(weight(lateUtc, null))).toEqual([lateUtc, null, "2025-12-31"]);
    expect(placed(weight(lateUtc, "Europe/Paris"))).toEqual([lateUtc, null, "2025-12-31"]);
    expect(placed(weight(lateUtc, "+19:00"))).toEqual([lateUtc, null, "2025-12-31"]);
  });

  it("dates each sample of a series across local midnight", () => {
    // 04:59 and 05:00 UTC are 23:59 on the 8th and 00:00 on the 9th in UTC-5.
    const start = Date.UTC(2025, 9, 9, 4, 59);
    const record = span(
      {
        startZoneOffsetId: "-05:00",
        samples: [0, 60_000].map((offset) => ({ timeEpochMillis: start + offset, beatsPerMinute: 60 })),
      },
      start,
      start + 60_000,
    );
    expect(mapRecord("HeartRate", record).observations.map((obs) => obs.localDate)).toEqual(["2025-10-08", "2025-10-09"]);
  });

  it("dates an interval by its start, with the end's offset when only that is known", () => {
    const start = Date.UTC(2025, 9, 9, 2, 0);
    const [steps] = mapRecord("Steps", span({ count: 100, endZoneOffsetId: "-04:00" }, start, start + HOUR)).observations;
    expect([steps?.zoneOffsetSeconds, steps?.localDate]).toEqual([-14400, "2025-10-08"]);
  });

  it("dates a night by its end, a workout by its start", () => {
    const start = Date.UTC(2025, 9, 9, 3, 0);
    const end = Date.UTC(2025, 9, 9, 11, 0);
    const zones = { startZoneOffsetId: "-05:00", endZoneOffsetId: "-04:00" };
    const [night] = mapRecord("SleepSession", span({ ...zones, stages: [] }, start, end)).sleepSessions;
    expect([night?.zoneOffsetSeconds, night?.localDate]).toEqual([-14400, "2025-10-09"]);
    const [workout] = mapRecord("ExerciseSession", span({ ...zones, exerciseType: "YOGA" }, start, end)).workouts;
    expect([workout?.zoneOffsetSeconds, workout?.localDate]).toEqual([-18000, "2025-10-08"]);
  });
});

describe("sources and vocabularies", () => {
  it("names the device from what is known of it", () => {
    const device = (value: unknown) =>
      mapRecord("Weight", { ...at({ weightInKilograms: 70 }), metadata: { ...metadata, device: value } }).observations[0]?.device;
    expect(device({ manufacturer: "Withings", model: "Body+", type: "SCALE" })).toBe("Withings Body+");
    expect(device({ manufacturer: null, model: "Body+", type: null })).toBe("Body+");
    expect(device({ manufacturer: " Withings ", model: "", type: "SCALE" })).toBe("Withings");
    expect(device({ manufacturer: null, model: null, type: "UNKNOWN" })).toBeNull();
    expect(device(null)).toBeNull();
  });

  it("carries lastModifiedTime as the version that replaces older copies", () => {
    const newer = { ...at({ weightInKilograms: 70 }), metadata: { ...metadata, lastModifiedTimeEpochMillis: 1_760_000_000_123 } };
    expect(mapRecord("Weight", newer).observations[0]?.version).toBe(1_760_000_000_123);
  });

  it("maps exercise types to snake_case and unknown ones to other", () => {
    const type = (exerciseType: string) => mapRecord("ExerciseSession", span({ exerciseType })).workouts[0]?.exerciseType;
    expect(
      ["RUNNING", "BIKING", "STRENGTH_TRAINING", "SWIMMING_POOL", "OTHER_WORKOUT", "UNKNOWN", "PICKLEBALL"].map(type),
    ).toEqual(["running", "biking", "strength_training", "swimming_pool", "other", "other", "other"]);
  });

  it("maps AWAKE_IN_BED when a writer carries it, and unknown stages to unknown", () => {
    const stages = ["AWAKE_IN_BED", "NAPPING"].map((stage, i) => ({
      startTimeEpochMillis: T + i,
      endTimeEpochMillis: T + i + 1,
      stage,
    }));
    expect(mapRecord("SleepSession", span({ stages })).sleepSessions[0]?.stages.map((s) => s.stage)).toEqual([
      "awake_in_bed",
      "unknown",
    ]);
  });

  it("keeps titles and notes within the store's limits", () => {
    const [workout] = mapRecord(
      "ExerciseSession",
      span({ exerciseType: "YOGA", title: "t".repeat(600), notes: "n".repeat(2_500) }),
    ).workouts;
    expect([workout?.title?.length, workout?.notes?.length]).toEqual([500, 2_000]);
  });
});
