export { ANALYST_VERSION, analyze, CAPABILITIES } from "./analyst.ts";
export { metricsNeeded, periodOf } from "./question.ts";
export type {
  AnalystAnswer,
  AnalystData,
  AnalystInput,
  Figure,
  MetricSeries,
  Period,
  SeriesPoint,
  SleepSessionData,
} from "./types.ts";
export { type AnalystMetric, METRIC_WORDS, SLEEP } from "./vocabulary.ts";
