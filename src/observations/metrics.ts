/**
 * The metric registry (DESIGN §5): every metric code Pulse stores, with its canonical unit (every
 * source is converted to it before storage), its UCUM unit and LOINC code for FHIR, the category
 * that consented sharing grants access by (DESIGN §8), how values combine over time, and the
 * physiological plausibility range used to flag, never drop, a value (DESIGN §6).
 *
 * LOINC: a code is given only where a LOINC term measures exactly this quantity; otherwise `null`
 * and the FHIR export codes it in Pulse's own system. Notably 80404-7 is "R-R interval.standard
 * deviation (Heart rate variability)", i.e. SDNN; LOINC has no term for RMSSD, so `hrv_rmssd` has
 * none rather than borrowing SDNN's.
 *
 * Ranges are inclusive and apply to one stored value: one sample for series and point metrics,
 * one record's total for interval metrics (steps, energy, distance, intake...). They mark what is
 * implausible for a person, not what is unhealthy: a glucose of 45 mg/dL is alarming but real.
 */
export const METRIC_CATEGORIES = ["vitals", "activity", "body", "sleep", "nutrition", "glucose", "reproductive"] as const;
export type MetricCategory = (typeof METRIC_CATEGORIES)[number];

/** `sum` for quantities that add up over time (steps, energy, intake); `avg` for rates and levels. */
export type Aggregation = "sum" | "avg";

export interface PlausibleRange {
  min: number;
  max: number;
}

export interface MetricDefinition {
  display: string;
  /** Canonical unit, as returned by the API. */
  unit: string;
  /** The same unit in UCUM, for FHIR `valueQuantity.code`. */
  ucum: string;
  loinc: string | null;
  category: MetricCategory;
  aggregation: Aggregation;
  range: PlausibleRange;
}

function metric(
  display: string,
  unit: string,
  ucum: string,
  loinc: string | null,
  category: MetricCategory,
  aggregation: Aggregation,
  min: number,
  max: number,
): MetricDefinition {
  return { display, unit, ucum, loinc, category, aggregation, range: { min, max } };
}

// biome-ignore format: one metric per line reads as a table
export const METRICS = {
  //                                display                     unit           ucum         LOINC       category        agg    min  max
  heart_rate:                metric("Heart rate",               "bpm",         "/min",      "8867-4",   "vitals",       "avg", 30,  220),
  // Trained athletes rest in the low 30s; a "resting" rate above 150 is not a resting rate.
  resting_heart_rate:        metric("Resting heart rate",       "bpm",         "/min",      "40443-4",  "vitals",       "avg", 30,  150),
  hrv_rmssd:                 metric("HRV (RMSSD)",              "ms",          "ms",        null,       "vitals",       "avg", 1,   300),
  hrv_sdnn:                  metric("HRV (SDNN)",               "ms",          "ms",        "80404-7",  "vitals",       "avg", 1,   300),
  oxygen_saturation:         metric("Oxygen saturation",        "%",           "%",         "59408-5",  "vitals",       "avg", 50,  100),
  respiratory_rate:          metric("Respiratory rate",         "breaths/min", "/min",      "9279-1",   "vitals",       "avg", 4,   60),
  body_temperature:          metric("Body temperature",         "°C",          "Cel",       "8310-5",   "vitals",       "avg", 30,  45),
  blood_pressure_systolic:   metric("Systolic blood pressure",  "mmHg",        "mm[Hg]",    "8480-6",   "vitals",       "avg", 50,  260),
  blood_pressure_diastolic:  metric("Diastolic blood pressure", "mmHg",        "mm[Hg]",    "8462-4",   "vitals",       "avg", 20,  160),
  // Basal body temperature is tracked for fertility: shared only under its own category.
  basal_body_temperature:    metric("Basal body temperature",   "°C",          "Cel",       null,       "reproductive", "avg", 34,  40),
  // CGM and meter readings alike; 2339-0 is "Glucose [Mass/volume] in Blood".
  blood_glucose:             metric("Blood glucose",            "mg/dL",       "mg/dL",     "2339-0",   "glucose",      "avg", 20,  600),
  steps:                     metric("Steps",                    "count",       "{steps}",   "55423-8",  "activity",     "sum", 0,   100_000),
  // 41981-2 "Calories burned" is the term HealthKit and Health Connect FHIR mappings use for active energy.
  active_energy:             metric("Active energy burned",     "kcal",        "kcal",      "41981-2",  "activity",     "sum", 0,   10_000),
  total_energy:              metric("Total energy burned",      "kcal",        "kcal",      null,       "activity",     "sum", 0,   20_000),
  // The pedometer distance term (55430-3) covers walking only; Health Connect distance is any activity.
  distance:                  metric("Distance",                 "m",           "m",         null,       "activity",     "sum", 0,   500_000),
  elevation_gained:          metric("Elevation gained",         "m",           "m",         null,       "activity",     "sum", 0,   10_000),
  floors:                    metric("Floors climbed",           "count",       "{floors}",  "100304-5", "activity",     "sum", 0,   1_000),
  power:                     metric("Power",                    "W",           "W",         null,       "activity",     "avg", 0,   3_000),
  // Running tops out near 12 m/s; cycling and skiing descents reach 30-40 m/s.
  speed:                     metric("Speed",                    "m/s",         "m/s",       null,       "activity",     "avg", 0,   40),
  cadence_steps:             metric("Step cadence",             "steps/min",   "/min",      null,       "activity",     "avg", 0,   300),
  cadence_cycling:           metric("Cycling cadence",          "rpm",         "/min",      null,       "activity",     "avg", 0,   250),
  vo2_max:                   metric("VO2 max",                  "mL/kg/min",   "mL/kg/min", null,       "activity",     "avg", 5,   100),
  weight:                    metric("Weight",                   "kg",          "kg",        "29463-7",  "body",         "avg", 0.5, 650),
  height:                    metric("Height",                   "m",           "m",         "8302-2",   "body",         "avg", 0.3, 2.75),
  body_fat:                  metric("Body fat",                 "%",           "%",         "41982-0",  "body",         "avg", 1,   75),
  lean_body_mass:            metric("Lean body mass",           "kg",          "kg",        "91557-9",  "body",         "avg", 1,   250),
  bone_mass:                 metric("Bone mass",                "kg",          "kg",        null,       "body",         "avg", 0.1, 10),
  body_water_mass:           metric("Body water mass",          "kg",          "kg",        null,       "body",         "avg", 1,   200),
  basal_metabolic_rate:      metric("Basal metabolic rate",     "kcal/d",      "kcal/d",    null,       "body",         "avg", 500, 5_000),
  // Intake per record (a drink, a meal, a day's log): beyond these a record is a typo or a unit mix-up.
  hydration:                 metric("Hydration",                "mL",          "mL",        null,       "nutrition",    "sum", 0,   10_000),
  nutrition_calories:        metric("Energy intake",            "kcal",        "kcal",      "9052-2",   "nutrition",    "sum", 0,   10_000),
  nutrition_carbohydrates:   metric("Carbohydrates",            "g",           "g",         null,       "nutrition",    "sum", 0,   1_500),
  nutrition_protein:         metric("Protein",                  "g",           "g",         null,       "nutrition",    "sum", 0,   500),
  nutrition_total_fat:       metric("Total fat",                "g",           "g",         null,       "nutrition",    "sum", 0,   500),
  nutrition_saturated_fat:   metric("Saturated fat",            "g",           "g",         null,       "nutrition",    "sum", 0,   250),
  nutrition_unsaturated_fat: metric("Unsaturated fat",          "g",           "g",         null,       "nutrition",    "sum", 0,   400),
  nutrition_trans_fat:       metric("Trans fat",                "g",           "g",         null,       "nutrition",    "sum", 0,   50),
  nutrition_sodium:          metric("Sodium",                   "mg",          "mg",        null,       "nutrition",    "sum", 0,   20_000),
  nutrition_potassium:       metric("Potassium",                "mg",          "mg",        null,       "nutrition",    "sum", 0,   20_000),
  nutrition_cholesterol:     metric("Cholesterol",              "mg",          "mg",        null,       "nutrition",    "sum", 0,   3_000),
  nutrition_fiber:           metric("Dietary fiber",            "g",           "g",         null,       "nutrition",    "sum", 0,   200),
  nutrition_sugar:           metric("Sugar",                    "g",           "g",         null,       "nutrition",    "sum", 0,   1_000),
  nutrition_vitamin_c:       metric("Vitamin C",                "mg",          "mg",        null,       "nutrition",    "sum", 0,   10_000),
  nutrition_vitamin_d:       metric("Vitamin D",                "µg",          "ug",        null,       "nutrition",    "sum", 0,   2_500),
  nutrition_calcium:         metric("Calcium",                  "mg",          "mg",        null,       "nutrition",    "sum", 0,   10_000),
  nutrition_iron:            metric("Iron",                     "mg",          "mg",        null,       "nutrition",    "sum", 0,   500),
} as const satisfies Record<string, MetricDefinition>;

export type MetricCode = keyof typeof METRICS;
export const METRIC_CODES = Object.keys(METRICS) as MetricCode[];

export function isMetricCode(value: string): value is MetricCode {
  return Object.hasOwn(METRICS, value);
}

export function metricUnit(code: MetricCode): string {
  return METRICS[code].unit;
}

export function metricAggregation(code: MetricCode): Aggregation {
  return METRICS[code].aggregation;
}

export function metricCategory(code: MetricCode): MetricCategory {
  return METRICS[code].category;
}

export function metricsInCategory(category: MetricCategory): MetricCode[] {
  return METRIC_CODES.filter((code) => METRICS[code].category === category);
}

/** True when the value is finite and inside the metric's inclusive plausibility range. */
export function isPlausible(code: MetricCode, value: number): boolean {
  const { min, max } = METRICS[code].range;
  return Number.isFinite(value) && value >= min && value <= max;
}

/**
 * Sessions are not observations but share the registry's vocabulary: `sleep` and `workout` are
 * the session codes of DESIGN §5. Durations are in hours; 93832-4 is LOINC "Sleep duration".
 */
export const SESSIONS = {
  sleep: { display: "Sleep", loinc: "93832-4", category: "sleep", durationHours: { min: 0.5, max: 16 } },
  // Longer than a day is a forgotten stop button, not a workout.
  workout: { display: "Workout", loinc: null, category: "activity", durationHours: { min: 0, max: 24 } },
} as const satisfies Record<
  string,
  { display: string; loinc: string | null; category: MetricCategory; durationHours: PlausibleRange }
>;

export type SessionCode = keyof typeof SESSIONS;

export function isPlausibleDuration(session: SessionCode, durationMs: number): boolean {
  const { min, max } = SESSIONS[session].durationHours;
  const hours = durationMs / 3_600_000;
  return Number.isFinite(hours) && hours >= min && hours <= max;
}
