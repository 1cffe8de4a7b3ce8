import { describe, expect, it } from "vitest";
import { metricCodeSchema } from "../../durable-objects/health-store/schema";
import { localDateOf, parseZoneOffset } from "../../src/health-connect/local-time";
import { parseExportFileName, recordTypeFromSchemaName } from "../../src/health-connect/record-types";
import {
  isMetricCode,
  isPlausible,
  isPlausibleDuration,
  METRIC_CODES,
  METRICS,
  metricAggregation,
  metricCategory,
  metricsInCategory,
  metricUnit,
} from "../../src/observations/metrics";
import { toCanonical } from "../../src/observations/units";

// The metric registry (DESIGN §5), unit conversion, and the Health Connect naming helpers.
describe("metric registry", () => {
  it("lists every code of DESIGN §5 with its canonical unit", () => {
    const design: Record<string, string> = {
      heart_rate: "bpm",
      resting_heart_rate: "bpm",
      hrv_rmssd: "ms",
      hrv_sdnn: "ms",
      steps: "count",
      active_energy: "kcal",
      total_energy: "kcal",
      basal_metabolic_rate: "kcal/d",
      distance: "m",
      elevation_gained: "m",
      floors: "count",
      blood_glucose: "mg/dL",
      oxygen_saturation: "%",
      respiratory_rate: "breaths/min",
      body_temperature: "°C",
      basal_body_temperature: "°C",
      blood_pressure_systolic: "mmHg",
      blood_pressure_diastolic: "mmHg",
      weight: "kg",
      height: "m",
      body_fat: "%",
      lean_body_mass: "kg",
      bone_mass: "kg",
      body_water_mass: "kg",
      hydration: "mL",
      vo2_max: "mL/kg/min",
      power: "W",
      speed: "m/s",
      cadence_steps: "steps/min",
      cadence_cycling: "rpm",
    };
    for (const [code, unit] of Object.entries(design)) {
      expect(isMetricCode(code), code).toBe(true);
      if (isMetricCode(code)) expect(metricUnit(code), code).toBe(unit);
    }
    const others = METRIC_CODES.filter((code) => !(code in design));
    expect(others.every((code) => code.startsWith("nutrition_"))).toBe(true);
    expect(others).toHaveLength(16);
  });

  it("uses snake_case codes the HealthStore accepts, and only them", () => {
    for (const code of METRIC_CODES) expect(metricCodeSchema.safeParse(code).success, code).toBe(true);
    expect(["constructor", "toString", "HeartRate", "sleep", ""].filter(isMetricCode)).toEqual([]);
  });

  it("keeps RMSSD and SDNN apart and never shares a LOINC code", () => {
    expect(METRICS.hrv_sdnn.loinc).toBe("80404-7");
    expect(METRICS.hrv_rmssd.loinc).toBeNull();
    const codes = METRIC_CODES.map((code) => METRICS[code].loinc).filter((loinc) => loinc !== null);
    expect(new Set(codes).size).toBe(codes.length);
    expect([METRICS.heart_rate.loinc, METRICS.resting_heart_rate.loinc, METRICS.blood_glucose.loinc]).toEqual([
      "8867-4",
      "40443-4",
      "2339-0",
    ]);
  });

  it("sums amounts and averages rates and levels", () => {
    const summed = METRIC_CODES.filter((code) => metricAggregation(code) === "sum");
    expect(summed.filter((code) => !code.startsWith("nutrition_"))).toEqual([
      "steps",
      "active_energy",
      "total_energy",
      "distance",
      "elevation_gained",
      "floors",
      "hydration",
    ]);
    expect(metricAggregation("heart_rate")).toBe("avg");
    expect(metricAggregation("basal_metabolic_rate")).toBe("avg");
  });

  it("groups metrics into sharing categories", () => {
    expect(metricCategory("blood_glucose")).toBe("glucose");
    expect(metricCategory("basal_body_temperature")).toBe("reproductive");
    expect(metricsInCategory("vitals")).toContain("blood_pressure_diastolic");
    expect(metricsInCategory("nutrition")).toContain("hydration");
  });

  it("holds the issue's plausibility ranges, inclusive", () => {
    const ranges = Object.fromEntries(
      (["blood_glucose", "heart_rate", "steps", "active_energy", "hrv_rmssd"] as const).map((code) => [
        code,
        METRICS[code].range,
      ]),
    );
    expect(ranges).toEqual({
      blood_glucose: { min: 20, max: 600 },
      heart_rate: { min: 30, max: 220 },
      steps: { min: 0, max: 100_000 },
      active_energy: { min: 0, max: 10_000 },
      hrv_rmssd: { min: 1, max: 300 },
    });
    for (const code of METRIC_CODES) expect(METRICS[code].range.min, code).toBeLessThan(METRICS[code].range.max);
    expect([isPlausible("heart_rate", 30), isPlausible("heart_rate", 29.99), isPlausible("heart_rate", Number.NaN)]).toEqual([
      true,
      false,
      false,
    ]);
    expect([isPlausibleDuration("sleep", 30 * 60_000), isPlausibleDuration("sleep", 16 * 3_600_000 + 1)]).toEqual([true, false]);
  });
});

describe("unit conversion", () => {
  it("converts into canonical units", () => {
    expect(toCanonical("blood_glucose", 5.5, "mmol/L")).toBeCloseTo(99.1001, 10);
    expect(toCanonical("active_energy", 1000, "kJ")).toBeCloseTo(239.005736, 6);
    expect(toCanonical("body_temperature", 98.6, "°F")).toBeCloseTo(37, 10);
    expect(toCanonical("weight", 2, "lb")).toBeCloseTo(0.90718474, 12);
    expect(toCanonical("distance", 5, "km")).toBe(5000);
    expect(toCanonical("hydration", 1.5, "L")).toBe(1500);
    expect(toCanonical("speed", 36, "km/h")).toBeCloseTo(10, 12);
    expect(toCanonical("nutrition_vitamin_d", 0.01, "mg")).toBeCloseTo(10, 12);
    expect(toCanonical("oxygen_saturation", 0.97, "fraction")).toBeCloseTo(97, 12);
  });

  it("passes canonical values through and accepts common spellings", () => {
    expect(toCanonical("heart_rate", 72, "bpm")).toBe(72);
    expect(toCanonical("nutrition_vitamin_d", 2.5, "ug")).toBe(2.5);
    expect(toCanonical("nutrition_vitamin_d", 2.5, "mcg")).toBe(2.5);
  });

  it("refuses units it cannot convert", () => {
    expect(toCanonical("blood_glucose", 5.5, "mmol")).toBeNull();
    expect(toCanonical("steps", 10, "kg")).toBeNull();
    expect(toCanonical("weight", 70, "constructor")).toBeNull();
  });
});

describe("Health Connect names and zone offsets", () => {
  it("derives the record type from schema and file names", () => {
    expect(recordTypeFromSchemaName("AvroHeartRateRecord")).toBe("HeartRate");
    expect(recordTypeFromSchemaName("io.github.hitoshura25.healthsyncapp.data.avro.AvroStepsRecord")).toBe("Steps");
    expect(
      ["AvroMetadata", "AvroFooRecord", "HeartRateRecord", "com.other.AvroStepsRecord"].map(recordTypeFromSchemaName),
    ).toEqual([null, null, null, null]);
    expect(parseExportFileName("exports/SleepSessionRecord_1760000000000.avro")).toEqual({
      recordType: "SleepSession",
      fetchedAt: 1760000000000,
    });
    expect(
      ["HeartRateRecord.avro", "FooRecord_1.avro", "StepsRecord_12.json", "StepsRecord_-1.avro"].map(parseExportFileName),
    ).toEqual([null, null, null, null]);
  });

  it("parses java.time.ZoneOffset ids", () => {
    const ids = ["Z", "+02:00", "-05:00", "+05:30", "-09:30", "+01:00:30", "+18:00", "-18:00", "-00:00", "+0530"];
    expect(ids.map(parseZoneOffset)).toEqual([0, 7200, -18000, 19800, -34200, 3630, 64800, -64800, 0, 19800]);
    expect(["+18:01", "+02:60", "UTC", "", "02:00", null, 7200].map(parseZoneOffset)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it("dates an instant in its offset", () => {
    const instant = Date.UTC(2025, 0, 1, 1, 0);
    expect([localDateOf(instant, null), localDateOf(instant, -7200), localDateOf(instant, 82_800)]).toEqual([
      "2025-01-01",
      "2024-12-31",
      "2025-01-02",
    ]);
  });
});
