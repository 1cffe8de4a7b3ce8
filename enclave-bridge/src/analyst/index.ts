export { ANALYST_VERSION, analyze, CAPABILITIES } from "./analyst.ts";
export { metricsNeeded, periodOf, type SummaryTarget, summaryTarget } from "./question.ts";
export type {
  AnalystAnswer,
  AnalystData,
  AnalystInput,
  Figure,
  MetricSeries,
  Period,
  SeriesPoint,
  SleepSessionData,
  SummaryData,
  SummaryFigure,
  SummarySection,
} from "./types.ts";
export { type AnalystMetric, METRIC_WORDS, SLEEP } from "./vocabulary.ts";
