import type { MetricCode } from "../observations/metrics";
import type { RecordType } from "./record-types";

/**
 * How each of the 31 record types becomes observations or sessions. A value field names the
 * schema field, the metric it feeds and the unit the exporter wrote it in (the Avro field names
 * carry their unit: `energyInKilocalories`, `levelInMilligramsPerDeciliter`, ...); values are
 * converted to the metric's canonical unit, which today is the identity for every field.
 *
 * Shapes:
 * - point: `timeEpochMillis` + `zoneOffsetId`; one observation per value field (blood pressure:
 *   systolic and diastolic at the same instant).
 * - interval: `startTimeEpochMillis`..`endTimeEpochMillis`, keeps both ends; nullable fields
 *   (nutrition) yield an observation only when present.
 * - series: a `samples` array, one observation per sample at the sample's own instant.
 * - sleep / exercise: sessions (src/health-connect/sessions.ts).
 */
export interface ValueField {
  field: string;
  metric: MetricCode;
  unit: string;
}

export type RecordMapping =
  | { shape: "point"; values: readonly ValueField[] }
  | { shape: "interval"; values: readonly ValueField[]; nullable: boolean }
  | { shape: "series"; sample: ValueField }
  | { shape: "sleep" }
  | { shape: "exercise" };

const point = (...values: ValueField[]): RecordMapping => ({ shape: "point", values });
const interval = (...values: ValueField[]): RecordMapping => ({ shape: "interval", values, nullable: false });
const series = (sample: ValueField): RecordMapping => ({ shape: "series", sample });
const v = (field: string, metric: MetricCode, unit: string): ValueField => ({ field, metric, unit });

/** NutritionRecord: the exporter writes energy in kcal, macronutrients in g, minerals and vitamin C in mg, vitamin D in µg. */
export const NUTRITION_FIELDS: readonly ValueField[] = [
  v("calories", "nutrition_calories", "kcal"),
  v("carbohydrates", "nutrition_carbohydrates", "g"),
  v("protein", "nutrition_protein", "g"),
  v("totalFat", "nutrition_total_fat", "g"),
  v("saturatedFat", "nutrition_saturated_fat", "g"),
  v("unsaturatedFat", "nutrition_unsaturated_fat", "g"),
  v("transFat", "nutrition_trans_fat", "g"),
  v("sodium", "nutrition_sodium", "mg"),
  v("potassium", "nutrition_potassium", "mg"),
  v("cholesterol", "nutrition_cholesterol", "mg"),
  v("fiber", "nutrition_fiber", "g"),
  v("sugar", "nutrition_sugar", "g"),
  v("vitaminC", "nutrition_vitamin_c", "mg"),
  v("vitaminD", "nutrition_vitamin_d", "µg"),
  v("calcium", "nutrition_calcium", "mg"),
  v("iron", "nutrition_iron", "mg"),
];

export const RECORD_MAPPINGS: Readonly<Record<RecordType, RecordMapping>> = {
  ActiveCaloriesBurned: interval(v("energyInKilocalories", "active_energy", "kcal")),
  BasalBodyTemperature: point(v("temperatureInCelsius", "basal_body_temperature", "°C")),
  BasalMetabolicRate: point(v("basalMetabolicRateInKilocaloriesPerDay", "basal_metabolic_rate", "kcal/d")),
  BloodGlucose: point(v("levelInMilligramsPerDeciliter", "blood_glucose", "mg/dL")),
  BloodPressure: point(v("systolic", "blood_pressure_systolic", "mmHg"), v("diastolic", "blood_pressure_diastolic", "mmHg")),
  BodyFat: point(v("percentage", "body_fat", "%")),
  BodyTemperature: point(v("temperatureInCelsius", "body_temperature", "°C")),
  BodyWaterMass: point(v("massInKilograms", "body_water_mass", "kg")),
  BoneMass: point(v("massInKilograms", "bone_mass", "kg")),
  CyclingPedalingCadence: series(v("revolutionsPerMinute", "cadence_cycling", "rpm")),
  Distance: interval(v("distanceInMeters", "distance", "m")),
  ElevationGained: interval(v("elevationInMeters", "elevation_gained", "m")),
  ExerciseSession: { shape: "exercise" },
  FloorsClimbed: interval(v("floors", "floors", "count")),
  HeartRate: series(v("beatsPerMinute", "heart_rate", "bpm")),
  // Health Connect's only HRV record is RMSSD; SDNN (`hrv_sdnn`) comes from providers.
  HeartRateVariabilityRmssd: point(v("heartRateVariabilityRmssd", "hrv_rmssd", "ms")),
  Height: point(v("heightInMeters", "height", "m")),
  Hydration: interval(v("volumeInMilliliters", "hydration", "mL")),
  LeanBodyMass: point(v("massInKilograms", "lean_body_mass", "kg")),
  Nutrition: { shape: "interval", values: NUTRITION_FIELDS, nullable: true },
  OxygenSaturation: point(v("percentage", "oxygen_saturation", "%")),
  Power: series(v("powerInWatts", "power", "W")),
  RespiratoryRate: point(v("rate", "respiratory_rate", "breaths/min")),
  RestingHeartRate: point(v("beatsPerMinute", "resting_heart_rate", "bpm")),
  SleepSession: { shape: "sleep" },
  Speed: series(v("speedInMetersPerSecond", "speed", "m/s")),
  StepsCadence: series(v("rateInStepsPerMinute", "cadence_steps", "steps/min")),
  Steps: interval(v("count", "steps", "count")),
  TotalCaloriesBurned: interval(v("energyInKilocalories", "total_energy", "kcal")),
  Vo2Max: point(v("vo2MillilitersPerMinuteKilogram", "vo2_max", "mL/kg/min")),
  Weight: point(v("weightInKilograms", "weight", "kg")),
};
