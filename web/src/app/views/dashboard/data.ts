/**
 * The dashboard's reads of the API (GET /v1/observations, /v1/sleep, /v1/summary/daily,
 * /v1/narratives), each followed through its pages, shaped into per-metric series of
 * (time, value) points. Nothing is computed here that the API already computes: hourly and daily
 * means come from its buckets; only the glucose time in range of a period is counted from the
 * readings, because buckets do not carry it.
 */
import type { ApiClient } from "../../api.ts";
import { addDays, type Range, type Resolution } from "./range.ts";

export const CHART_METRICS = [
  "heart_rate",
  "resting_heart_rate",
  "blood_glucose",
  "steps",
  "hrv_rmssd",
  "hrv_sdnn",
  "weight",
  "blood_pressure_systolic",
  "blood_pressure_diastolic",
  "oxygen_saturation",
] as const;
export type ChartMetric = (typeof CHART_METRICS)[number];

interface Observation {
  metric: string;
  start: string;
  value: number;
  unit: string;
  flagged: boolean;
}
interface Bucket {
  metric: string;
  start: string;
  avg: number;
  min: number;
  max: number;
  count: number;
  sum?: number;
  unit: string;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Point {
  /** Epoch milliseconds: the sample's or the bucket's start. */
  t: number;
  v: number;
}

export interface Series {
  metric: ChartMetric;
  unit: string;
  resolution: Resolution;
  points: Point[];
  /** Implausible readings the API kept but flagged: left out of the chart, counted in its text. */
  flagged: number;
}

export type SeriesMap = Partial<Record<ChartMetric, Series>>;

/** Metrics that add up over time: their buckets are charted by sum, not mean. */
const SUMMED = new Set<string>(["steps"]);
const PAGE = 5_000;

function isBucket(item: Observation | Bucket): item is Bucket {
  return "avg" in item;
}

/** Every page of one observations read. */
async function readAll(
  api: ApiClient,
  range: Range,
  metrics: readonly ChartMetric[],
  resolution: Resolution,
  signal: AbortSignal,
): Promise<(Observation | Bucket)[]> {
  const items: (Observation | Bucket)[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({
      metrics: metrics.join(","),
      since: range.from,
      until: addDays(range.to, 1),
      resolution,
      tz: range.tz,
      limit: String(PAGE),
    });
    if (cursor !== null) params.set("cursor", cursor);
    const page: Page<Observation | Bucket> = await api.request("GET", `/v1/observations?${params}`, { signal });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

function toSeries(items: (Observation | Bucket)[], resolution: Resolution, into: SeriesMap): void {
  for (const item of items) {
    const metric = item.metric as ChartMetric;
    let series = into[metric];
    if (series === undefined) {
      series = { metric, unit: item.unit, resolution, points: [], flagged: 0 };
      into[metric] = series;
    }
    const t = Date.parse(item.start);
    if (isBucket(item)) series.points.push({ t, v: SUMMED.has(metric) ? (item.sum ?? item.avg * item.count) : item.avg });
    else if (item.flagged) series.flagged += 1;
    else series.points.push({ t, v: item.value });
  }
  for (const series of Object.values(into)) series?.points.sort((a, b) => a.t - b.t);
}

/**
 * The series of every charted metric over the range, at the range's resolution, with two
 * exceptions a chart needs: steps over one day come as hourly sums (bars per hour, not per record),
 * and glucose over up to 31 days comes as readings, so the time in range can be counted.
 */
export async function readSeries(api: ApiClient, range: Range, signal: AbortSignal): Promise<SeriesMap> {
  const series: SeriesMap = {};
  const rawGlucose = range.resolution !== "raw" && range.days <= 31;
  const rawSteps = range.resolution === "raw";
  const main = CHART_METRICS.filter((metric) => !(rawSteps && metric === "steps") && !(rawGlucose && metric === "blood_glucose"));
  const [items, glucose, steps] = await Promise.all([
    readAll(api, range, main, range.resolution, signal),
    rawGlucose ? readAll(api, range, ["blood_glucose"], "raw", signal) : Promise.resolve([]),
    rawSteps ? readAll(api, range, ["steps"], "hour", signal) : Promise.resolve([]),
  ]);
  toSeries(items, range.resolution, series);
  toSeries(glucose, "raw", series);
  toSeries(steps, "hour", series);
  return series;
}

export interface SleepSession {
  id: number;
  start: string;
  end: string;
  stages: { stage: string; start: string; end: string }[];
  totals: { inBedSeconds: number; asleepSeconds: number; stages: Record<string, number> };
}

/** Sleep sessions overlapping the range, oldest first. */
export async function readSleep(api: ApiClient, range: Range, signal: AbortSignal): Promise<SleepSession[]> {
  const sessions: SleepSession[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ since: range.from, until: addDays(range.to, 1), tz: range.tz, limit: "1000" });
    if (cursor !== null) params.set("cursor", cursor);
    const page: Page<SleepSession> = await api.request("GET", `/v1/sleep?${params}`, { signal });
    sessions.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return sessions;
}

interface Stats {
  avg: number;
  min: number;
  max: number;
  count: number;
}
export interface DailySummary {
  date: string;
  steps: number | null;
  activeEnergy: number | null;
  heartRate: Stats | null;
  restingHeartRate: number | null;
  hrvRmssd: number | null;
  glucose: (Stats & { timeInRangePercent: number }) | null;
  sleep: { sessions: number; inBedSeconds: number; asleepSeconds: number };
  workouts: { count: number; durationSeconds: number };
  units: Record<string, string>;
}

export function readSummary(api: ApiClient, range: Range, signal: AbortSignal): Promise<DailySummary> {
  const params = new URLSearchParams({ date: range.to, tz: range.tz });
  return api.request("GET", `/v1/summary/daily?${params}`, { signal });
}

export interface Narrative {
  period: "day" | "week";
  date: string;
  endDate: string;
  sections: { domain: string; title: string; sentences: string[] }[];
}

/** The narrative of the range's last day, or of its ISO week for longer ranges. */
export function readNarrative(api: ApiClient, range: Range, signal: AbortSignal): Promise<Narrative> {
  const params = new URLSearchParams({ period: range.days === 1 ? "day" : "week", date: range.to, tz: range.tz });
  return api.request("GET", `/v1/narratives?${params}`, { signal });
}
