import { describe, expect, it } from "vitest";
import { observationInputSchema } from "../../durable-objects/health-store/schema";
import { sleepSessionInputSchema, workoutInputSchema } from "../../durable-objects/health-store/session-schema";
import { mapRecord, mapRecords } from "../../src/health-connect/map-record";
import type { MappedRecords } from "../../src/health-connect/mapped";
import { RECORD_TYPES, type RecordType } from "../../src/health-connect/record-types";

// Every record type mapped from a hand-built record shaped like its reader schema (decoded form:
// unions as the bare value or null, longs as numbers, enums as symbols), inside workerd.
const FETCHED = Date.UTC(2025, 9, 10);
const metadata = {
  id: "rec-1",
  dataOriginPackageName: "com.example.app",
  lastModifiedTimeEpochMillis: 1_759_990_000_000,
  clientRecordId: null,
  clientRecordVersion: 0,
  device: { manufacturer: "Google", model: "Pixel Watch 2", type: "WATCH" },
};
const source = {
  sourceKind: "upload",
  sourceApp: "com.example.app",
  device: "Google Pixel Watch 2",
  sourceRecordId: "rec-1",
  version: 1_759_990_000_000,
};

// 03:30 UTC on 9 October is 22:30 on the 8th in UTC-5: the record belongs to the 8th.
const T = Date.UTC(2025, 9, 9, 3, 30);
const NY = -5 * 3600;

function pointRecord(fields: Record<string, unknown>) {
  return { metadata, timeEpochMillis: T, zoneOffsetId: "-05:00", appRecordFetchTimeEpochMillis: FETCHED, ...fields };
}
function intervalRecord(fields: Record<string, unknown>) {
  return {
    metadata,
    startTimeEpochMillis: T,
    endTimeEpochMillis: T + 3_600_000,
    startZoneOffsetId: "-05:00",
    endZoneOffsetId: "-05:00",
    appRecordFetchTimeEpochMillis: FETCHED,
    ...fields,
  };
}
function seriesRecord(field: string, values: number[]) {
  return intervalRecord({ samples: values.map((value, i) => ({ timeEpochMillis: T + i * 60_000, [field]: value })) });
}

type Expected = [metric: string, value: number, unit: string][];
const point = (metric: string, value: number, unit: string) => ({ metric, value, unit, start: T, end: T });

const POINT_CASES: [RecordType, Record<string, unknown>, Expected][] = [
  [
    "BasalBodyTemperature",
    { temperatureInCelsius: 36.55, measurementLocation: "MOUTH" },
    [["basal_body_temperature", 36.55, "°C"]],
  ],
  ["BasalMetabolicRate", { basalMetabolicRateInKilocaloriesPerDay: 1650.5 }, [["basal_metabolic_rate", 1650.5, "kcal/d"]]],
  [
    "BloodGlucose",
    { levelInMilligramsPerDeciliter: 104.5, specimenSource: "CAPILLARY_BLOOD", mealType: "BREAKFAST", relationToMeal: "FASTING" },
    [["blood_glucose", 104.5, "mg/dL"]],
  ],
  [
    "BloodPressure",
    { systolic: 118, diastolic: 76, bodyPosition: "SITTING_DOWN", measurementLocation: "LEFT_UPPER_ARM" },
    [
      ["blood_pressure_systolic", 118, "mmHg"],
      ["blood_pressure_diastolic", 76, "mmHg"],
    ],
  ],
  ["BodyFat", { percentage: 21.4 }, [["body_fat", 21.4, "%"]]],
  ["BodyTemperature", { temperatureInCelsius: 37.2, measurementLocation: "ARMPIT" }, [["body_temperature", 37.2, "°C"]]],
  ["BodyWaterMass", { massInKilograms: 41.3 }, [["body_water_mass", 41.3, "kg"]]],
  ["BoneMass", { massInKilograms: 3.1 }, [["bone_mass", 3.1, "kg"]]],
  ["HeartRateVariabilityRmssd", { heartRateVariabilityRmssd: 48.25 }, [["hrv_rmssd", 48.25, "ms"]]],
  ["Height", { heightInMeters: 1.78 }, [["height", 1.78, "m"]]],
  ["LeanBodyMass", { massInKilograms: 60.2 }, [["lean_body_mass", 60.2, "kg"]]],
  ["OxygenSaturation", { percentage: 97 }, [["oxygen_saturation", 97, "%"]]],
  ["RespiratoryRate", { rate: 14.5 }, [["respiratory_rate", 14.5, "breaths/min"]]],
  ["RestingHeartRate", { beatsPerMinute: 52 }, [["resting_heart_rate", 52, "bpm"]]],
  ["Vo2Max", { vo2MillilitersPerMinuteKilogram: 47.3, measurementMethod: "COOPER_TEST" }, [["vo2_max", 47.3, "mL/kg/min"]]],
  ["Weight", { weightInKilograms: 72.45 }, [["weight", 72.45, "kg"]]],
];

const INTERVAL_CASES: [RecordType, Record<string, unknown>, Expected][] = [
  ["ActiveCaloriesBurned", { energyInKilocalories: 245.5 }, [["active_energy", 245.5, "kcal"]]],
  ["Distance", { distanceInMeters: 5012.3 }, [["distance", 5012.3, "m"]]],
  ["ElevationGained", { elevationInMeters: 120.5 }, [["elevation_gained", 120.5, "m"]]],
  ["FloorsClimbed", { floors: 12 }, [["floors", 12, "count"]]],
  ["Hydration", { volumeInMilliliters: 500 }, [["hydration", 500, "mL"]]],
  ["Steps", { count: 6543 }, [["steps", 6543, "count"]]],
  ["TotalCaloriesBurned", { energyInKilocalories: 380.25 }, [["total_energy", 380.25, "kcal"]]],
];

const NUTRIENTS_ABSENT = Object.fromEntries(
  ["saturatedFat", "unsaturatedFat", "transFat", "potassium", "cholesterol", "fiber", "sugar", "vitaminC", "calcium", "iron"].map(
    (field) => [field, null],
  ),
);

const SERIES_CASES: [RecordType, string, number[], string, string][] = [
  ["CyclingPedalingCadence", "revolutionsPerMinute", [85.5, 90], "cadence_cycling", "rpm"],
  ["HeartRate", "beatsPerMinute", [72, 75], "heart_rate", "bpm"],
  ["Power", "powerInWatts", [210.5, 250], "power", "W"],
  ["Speed", "speedInMetersPerSecond", [3.2, 3.4], "speed", "m/s"],
  ["StepsCadence", "rateInStepsPerMinute", [160, 165.5], "cadence_steps", "steps/min"],
];

const common = { ...source, zoneOffsetSeconds: NY, localDate: "2025-10-08", flagged: false };

function expectStorable(mapped: MappedRecords): void {
  for (const obs of mapped.observations) expect(observationInputSchema.safeParse(obs).error).toBeUndefined();
  for (const night of mapped.sleepSessions) expect(sleepSessionInputSchema.safeParse(night).error).toBeUndefined();
  for (const workout of mapped.workouts) expect(workoutInputSchema.safeParse(workout).error).toBeUndefined();
}

describe("Health Connect mapping, all 31 record types", () => {
  it.each(POINT_CASES)("%s → observations at one instant", (type, fields, expected) => {
    const mapped = mapRecord(type, pointRecord(fields));
    expect(mapped).toEqual({
      observations: expected.map(([metric, value, unit]) => ({ ...common, ...point(metric, value, unit) })),
      sleepSessions: [],
      workouts: [],
      rejected: [],
    });
    expectStorable(mapped);
  });

  it.each(INTERVAL_CASES)("%s → one observation keeping start and end", (type, fields, expected) => {
    const mapped = mapRecord(type, intervalRecord(fields));
    expect(mapped.observations).toEqual(
      expected.map(([metric, value, unit]) => ({ ...common, metric, value, unit, start: T, end: T + 3_600_000 })),
    );
    expectStorable(mapped);
  });

  it("Nutrition → one observation per nutrient present", () => {
    const record = intervalRecord({
      name: "Oatmeal",
      calories: 350,
      carbohydrates: 60.5,
      protein: 12,
      totalFat: 6.5,
      sodium: 120,
      vitaminD: 2.5,
      ...NUTRIENTS_ABSENT,
    });
    const mapped = mapRecord("Nutrition", record);
    expect(mapped.observations.map((obs) => [obs.metric, obs.value, obs.unit])).toEqual([
      ["nutrition_calories", 350, "kcal"],
      ["nutrition_carbohydrates", 60.5, "g"],
      ["nutrition_protein", 12, "g"],
      ["nutrition_total_fat", 6.5, "g"],
      ["nutrition_sodium", 120, "mg"],
      ["nutrition_vitamin_d", 2.5, "µg"],
    ]);
    expect(mapped.observations[0]).toEqual({
      ...common,
      metric: "nutrition_calories",
      value: 350,
      unit: "kcal",
      start: T,
      end: T + 3_600_000,
    });
    expect(mapRecord("Nutrition", intervalRecord({ calories: null, ...NUTRIENTS_ABSENT }))).toEqual({
      observations: [],
      sleepSessions: [],
      workouts: [],
      rejected: [],
    });
    expectStorable(mapped);
  });

  it.each(SERIES_CASES)("%s → one observation per sample", (type, field, samples, metric, unit) => {
    const mapped = mapRecord(type, seriesRecord(field, samples));
    expect(mapped.observations).toEqual(
      samples.map((value, i) => ({ ...common, metric, value, unit, start: T + i * 60_000, end: T + i * 60_000 })),
    );
    expectStorable(mapped);
  });

  it("SleepSession → a night with its stages, dated by the morning it ends", () => {
    const start = Date.UTC(2025, 9, 9, 3, 0); // 22:00 on the 8th in New York
    const end = Date.UTC(2025, 9, 9, 11, 0); // 06:00 on the 9th
    const hour = 3_600_000;
    const symbols = ["AWAKE", "LIGHT", "DEEP", "REM", "SLEEPING", "OUT_OF_BED", "UNKNOWN", "LIGHT"];
    const record = {
      metadata,
      title: "Night",
      notes: "  ",
      startTimeEpochMillis: start,
      endTimeEpochMillis: end,
      startZoneOffsetId: "-05:00",
      endZoneOffsetId: "-05:00",
      durationMillis: end - start,
      appRecordFetchTimeEpochMillis: FETCHED,
      stages: symbols.map((stage, i) => ({
        startTimeEpochMillis: start + i * hour,
        endTimeEpochMillis: start + (i + 1) * hour,
        stage,
      })),
    };
    const mapped = mapRecord("SleepSession", record);
    expect(mapped.observations).toEqual([]);
    expect(mapped.sleepSessions).toEqual([
      {
        ...source,
        start,
        end,
        zoneOffsetSeconds: NY,
        localDate: "2025-10-09",
        title: "Night",
        notes: null,
        flagged: false,
        stages: ["awake", "light", "deep", "rem", "sleeping", "out_of_bed", "unknown", "light"].map((stage, i) => ({
          stage,
          start: start + i * hour,
          end: start + (i + 1) * hour,
        })),
      },
    ]);
    expectStorable(mapped);
  });

  it("ExerciseSession → a workout with its snake_case type", () => {
    const record = intervalRecord({ exerciseType: "HIGH_INTENSITY_INTERVAL_TRAINING", title: "Intervals", notes: "6 x 400 m" });
    const mapped = mapRecord("ExerciseSession", record);
    expect(mapped.workouts).toEqual([
      {
        ...common,
        start: T,
        end: T + 3_600_000,
        exerciseType: "high_intensity_interval_training",
        title: "Intervals",
        notes: "6 x 400 m",
      },
    ]);
    expectStorable(mapped);
  });

  it("covers every record type", () => {
    const named: RecordType[] = ["Nutrition", "SleepSession", "ExerciseSession"];
    const covered = [...POINT_CASES, ...INTERVAL_CASES, ...SERIES_CASES].map(([type]) => type).concat(named);
    expect(covered.sort()).toEqual([...RECORD_TYPES].sort());
  });
});

describe("Health Connect mapping, many records", () => {
  it("maps a batch into one result, rejecting only the broken record", () => {
    const good = pointRecord({ beatsPerMinute: 55 });
    const broken = { ...pointRecord({ beatsPerMinute: 56 }), metadata: { ...metadata, id: "rec-2" }, timeEpochMillis: -1 };
    const mapped = mapRecords("RestingHeartRate", [good, broken, { ...good, metadata: { ...metadata, id: "rec-3" } }]);
    expect(mapped.observations.map((obs) => obs.sourceRecordId)).toEqual(["rec-1", "rec-3"]);
    expect(mapped.rejected).toEqual([
      { sourceRecordId: "rec-2", reason: "timeEpochMillis is not an instant between 1970 and 9999" },
    ]);
  });
});
