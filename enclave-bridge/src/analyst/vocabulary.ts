/**
 * The words people use for each metric the analyst understands. Kept here rather than read from
 * the Worker's metric registry because the analyst runs inside the enclave, which imports nothing
 * of the Worker; the Worker's type check pins every key to a metric code (src/ai/dataset.ts).
 * `sum` metrics (steps, energy...) are totalled per UTC day before any statistic, as the registry's
 * aggregation says; the others are levels averaged sample by sample.
 */
export interface MetricWords {
  display: string;
  aggregation: "sum" | "avg";
  synonyms: readonly string[];
}

export const METRIC_WORDS = {
  resting_heart_rate: {
    display: "resting heart rate",
    aggregation: "avg",
    synonyms: ["resting heart rate", "resting hr", "resting pulse", "rhr"],
  },
  heart_rate: { display: "heart rate", aggregation: "avg", synonyms: ["heart rate", "pulse", "hr", "bpm"] },
  hrv_rmssd: { display: "HRV (RMSSD)", aggregation: "avg", synonyms: ["heart rate variability", "hrv", "rmssd"] },
  hrv_sdnn: { display: "HRV (SDNN)", aggregation: "avg", synonyms: ["sdnn"] },
  blood_glucose: {
    display: "blood glucose",
    aggregation: "avg",
    synonyms: ["blood glucose", "blood sugar", "glucose", "sugar level", "cgm"],
  },
  oxygen_saturation: {
    display: "oxygen saturation",
    aggregation: "avg",
    synonyms: ["oxygen saturation", "spo2", "blood oxygen", "oxygen"],
  },
  respiratory_rate: {
    display: "respiratory rate",
    aggregation: "avg",
    synonyms: ["respiratory rate", "breathing rate", "respiration"],
  },
  body_temperature: { display: "body temperature", aggregation: "avg", synonyms: ["body temperature", "temperature", "fever"] },
  blood_pressure_systolic: { display: "systolic blood pressure", aggregation: "avg", synonyms: ["systolic", "blood pressure"] },
  blood_pressure_diastolic: { display: "diastolic blood pressure", aggregation: "avg", synonyms: ["diastolic"] },
  weight: { display: "weight", aggregation: "avg", synonyms: ["weight", "weigh", "weighed", "body weight"] },
  body_fat: { display: "body fat", aggregation: "avg", synonyms: ["body fat", "fat percentage"] },
  vo2_max: { display: "VO2 max", aggregation: "avg", synonyms: ["vo2 max", "vo2max", "vo2"] },
  steps: { display: "steps", aggregation: "sum", synonyms: ["steps", "step count", "walked", "walk"] },
  active_energy: {
    display: "active energy",
    aggregation: "sum",
    synonyms: ["active energy", "active calories", "calories burned", "burned"],
  },
  distance: { display: "distance", aggregation: "sum", synonyms: ["distance"] },
  hydration: { display: "hydration", aggregation: "sum", synonyms: ["hydration", "water intake", "drank"] },
} as const satisfies Record<string, MetricWords>;

export type AnalystMetric = keyof typeof METRIC_WORDS;

/** The session code of DESIGN §5; sleep arrives as sessions with stages, not as a series. */
export const SLEEP = "sleep";

export const SLEEP_WORDS = ["sleep", "slept", "asleep", "rem", "deep", "light", "awake", "bed"] as const;

/** Stages that count as time asleep, as the HealthStore counts them (durable-objects/health-store). */
export const ASLEEP_STAGES: ReadonlySet<string> = new Set(["sleeping", "light", "deep", "rem"]);

/** Whole units where a decimal is noise (a step, a kcal, a metre); one decimal elsewhere. */
export function decimalsFor(unit: string): number {
  return ["count", "kcal", "m", "mL", "mg", "mg/dL", "min"].includes(unit) ? 0 : 1;
}
