/**
 * The contract between the Worker (which selects the data), the enclave (which runs a model) and
 * the built-in analyst (DESIGN §9). Times are ISO 8601 instants; values are in each metric's
 * canonical unit (src/observations/metrics.ts), which travels with the series.
 */
export interface SeriesPoint {
  start: string;
  end: string;
  value: number;
}

export interface MetricSeries {
  unit: string;
  points: SeriesPoint[];
}

export interface SleepStageInterval {
  stage: string;
  start: string;
  end: string;
}

export interface SleepSessionData {
  start: string;
  end: string;
  stages: SleepStageInterval[];
}

/** One number of a clinical narrative's section, as GET /v1/narratives shows it. */
export interface SummaryFigure {
  code: string;
  label: string;
  /** Null where the narrative has no value (too little data for it). */
  value: number | null;
  unit: string;
}

export interface SummarySection {
  /** glucose, heart, blood_pressure, sleep, activity, body (src/narratives/types.ts). */
  domain: string;
  title: string;
  sentences: string[];
  figures: SummaryFigure[];
}

/**
 * The person's clinical narrative of one local day or week, read by the Worker for a summary
 * question: the analyst answers "summarize my week" with its sentences and figures, so the summary
 * says exactly what GET /v1/narratives says for that period.
 */
export interface SummaryData {
  period: "day" | "week";
  /** The first local date (the day, or the week's Monday) and the last. */
  date: string;
  endDate: string;
  timeZone: string;
  sections: SummarySection[];
  /** Domains without data in the period. */
  noData: string[];
}

export interface AnalystData {
  metrics: Record<string, MetricSeries>;
  sleep?: SleepSessionData[];
  narrative?: SummaryData;
}

export interface AnalystInput {
  question: string;
  /** The instant relative periods ("last week", "yesterday") are measured from. */
  now: string;
  /** The asker's time zone (IANA, ±HH:MM or UTC) for calendar words; UTC when absent. */
  timeZone?: string | undefined;
  data: AnalystData;
}

export interface Figure {
  label: string;
  value: number;
  unit: string;
}

export interface AnalystAnswer {
  answer: string;
  usedMetrics: string[];
  figures: Figure[];
}

/** A half-open window `[since, until)`; `null` means unbounded ("all the data given"). */
export interface Period {
  since: string | null;
  until: string | null;
}
