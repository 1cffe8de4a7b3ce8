/**
 * Clinical narratives (DESIGN §5 "narratives"): for one local day or one local week, a few
 * sentences per clinical domain that has data, the figures they rest on, and how much data there
 * was. Deterministic — computed from the stored data by src/narratives/build.ts, no model — so the
 * same data always reads the same, and every number in a sentence is one of the section's figures.
 *
 * `NarrativeData` is what the HealthStore reads for a period (durable-objects/health-store/
 * narratives.ts); `NarrativeBody` is what the builder makes of it; `Narrative` is what the API
 * answers (the body, its id and when it was generated).
 */
import type { MetricCategory } from "../observations/metrics";

export const NARRATIVE_PERIODS = ["day", "week"] as const;
export type NarrativePeriod = (typeof NARRATIVE_PERIODS)[number];

/** In the order sections appear. */
export const NARRATIVE_DOMAINS = ["glucose", "heart", "blood_pressure", "sleep", "activity", "body"] as const;
export type NarrativeDomain = (typeof NARRATIVE_DOMAINS)[number];

/** The sharing category a grantee needs to read each domain's section (DESIGN §8). */
export const DOMAIN_CATEGORY: Record<NarrativeDomain, MetricCategory> = {
  glucose: "glucose",
  heart: "vitals",
  blood_pressure: "vitals",
  sleep: "sleep",
  activity: "activity",
  body: "body",
};

/** Samples of one metric in time order: `times[i]` (epoch ms, the sample's start) has `values[i]`. */
export interface Series {
  times: number[];
  values: number[];
}

/** Records with a duration (steps, energy): start, end (epoch ms) and the record's total. */
export interface IntervalSeries {
  starts: number[];
  ends: number[];
  values: number[];
}

/** One local calendar day of the period: [start, end) in UTC epoch ms (23 or 25 hours across DST). */
export interface LocalDay {
  date: string;
  start: number;
  end: number;
}

export interface NarrativeSleep {
  start: number;
  end: number;
  /** Minutes per stage (light, deep, rem, awake, …); empty when the source recorded no stages. */
  stageMinutes: Record<string, number>;
  inBedMinutes: number;
  asleepMinutes: number;
  /** The local date the session ended on (the night that ended that morning). */
  localDate: string;
  /** Local wall-clock minutes since midnight of the session's start and end, for consistency. */
  bedtimeLocalMinutes: number;
  wakeLocalMinutes: number;
}

export interface NarrativeWorkout {
  start: number;
  end: number;
  exerciseType: string;
  /** Heart rate samples during the workout and in the 2 minutes after it (recovery), if any. */
  peakHeartRate: number | null;
  heartRateTwoMinutesAfter: number | null;
}

/**
 * Everything one narrative is computed from, read in one pass by the HealthStore. Unflagged
 * samples only (flagged ones are implausible, DESIGN §6); every series is clipped to [start, end)
 * unless its comment says otherwise.
 */
export interface NarrativeData {
  period: NarrativePeriod;
  /** The first local date; a week is the 7 local days from it. */
  date: string;
  /** The IANA name (or `UTC`) the days are local to, as the caller asked. */
  timeZone: string;
  start: number;
  end: number;
  days: LocalDay[];
  /**
   * The part of [start, end) whose data can exist: before now for a period still in progress, and
   * inside a grant's period for a grantee. Expected readings (CGM sufficiency) are counted over it
   * only, so a week in progress is not called short of data for days that have not happened.
   * Absent: the whole period.
   */
  observable?: { since: number; until: number };
  glucose: Series;
  heartRate: Series;
  restingHeartRate: Series;
  hrvRmssd: Series;
  /** RMSSD samples of the 28 days before `start`: the person's own baseline. */
  hrvRmssdBaseline: Series;
  oxygenSaturation: Series;
  respiratoryRate: Series;
  /** Systolic and diastolic recorded together (same source record and instant). */
  bloodPressure: { times: number[]; systolic: number[]; diastolic: number[] };
  /** Weight in the period and the 30 days before it, for a trend. */
  weight: Series;
  /** The most recent height before `end` (metres), for BMI; null when none is stored. */
  heightMetres: number | null;
  steps: IntervalSeries;
  activeEnergy: IntervalSeries;
  /** Sleep sessions ending within the period. */
  sleep: NarrativeSleep[];
  /** Workouts starting within the period. */
  workouts: NarrativeWorkout[];
  /**
   * False when workouts were not read at all (a reader without the activity category), so an
   * empty `workouts` does not mean there were none; absent means they were read.
   */
  workoutsRead?: boolean;
}

export type FigureFlag = "low" | "high" | "attention";

/** One number a section rests on, with its unit and, where one applies, the reference range. */
export interface NarrativeFigure {
  /** Stable key, snake_case: `mean_glucose`, `gmi`, `time_in_range`, … */
  code: string;
  label: string;
  value: number | null;
  unit: string;
  /** The reference or target the value is read against, in words (`70–180 mg/dL, target > 70 %`). */
  reference?: string;
  flag?: FigureFlag;
}

export interface NarrativeCoverage {
  /** Samples or records the section used. */
  samples: number;
  /** Days of the period with any data of this domain. */
  daysWithData: number;
  days: number;
  /** Share of the expected readings present, 0-100, where a rule defines one (CGM: one per 5 min). */
  percent?: number;
  /** False when a rule's minimum (CGM: ≥ 70 % of readings) is not met; the text says so. */
  sufficient: boolean;
}

export interface NarrativeSection {
  domain: NarrativeDomain;
  title: string;
  /** A few sentences a clinician can scan; every number in them is one of `figures`. */
  sentences: string[];
  figures: NarrativeFigure[];
  coverage: NarrativeCoverage;
}

export interface NarrativeBody {
  period: NarrativePeriod;
  date: string;
  /** The last local date of the period (the same as `date` for a day). */
  endDate: string;
  timeZone: string;
  start: number;
  end: number;
  /** One section per domain with data, in NARRATIVE_DOMAINS order. */
  sections: NarrativeSection[];
  /** Domains with no data in the period, so a reader knows their absence is not an omission. */
  noData: NarrativeDomain[];
}

export interface Narrative extends NarrativeBody {
  id: string;
  /** Epoch ms: when this text was computed. */
  generatedAt: number;
}
