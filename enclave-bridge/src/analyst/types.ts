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

export interface AnalystData {
  metrics: Record<string, MetricSeries>;
  sleep?: SleepSessionData[];
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
