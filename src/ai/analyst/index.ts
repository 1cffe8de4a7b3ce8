export { analyze, CAPABILITIES } from "./analyst";
export { metricsNeeded, periodOf } from "./question";
export type {
  AnalystAnswer,
  AnalystData,
  AnalystInput,
  Figure,
  MetricSeries,
  Period,
  SeriesPoint,
  SleepSessionData,
} from "./types";
