import { z } from "zod";
import { summaryFields } from "../../enclave-bridge/src/protocol.ts";
import { formatAuditResource } from "../../src/audit/resource";
import { PERIOD_DAYS } from "../../src/narratives/period";
import { DOMAIN_CATEGORY, NARRATIVE_DOMAINS } from "../../src/narratives/types";
import { METRIC_CODES, type MetricCode, metricAggregation, metricCategory, metricUnit } from "../../src/observations/metrics";
import { localDays } from "./narrative-data";
import { narrativeQuerySchema, readNarrative } from "./narratives";
import { sessionListQuerySchema } from "./read-schema";
import { listSleepSessions } from "./sessions-read";

/**
 * What a confidential-AI question may read (DESIGN §9): only the metrics it names, only within its
 * window, as compact columns ready to be sealed to the enclave. Read in one transaction with one
 * `ai.query` audit event naming the data categories and metrics (never the question).
 *
 * Unflagged samples only, as every aggregate in the store. A metric with more samples in the window
 * than `maxPointsPerMetric` is sent as quarter-hour rollups instead (mean per slot for levels, sum
 * per slot for quantities), which keeps a month of second-by-second heart rate within one request;
 * the slots at the window's two ends are sent whole, so they may reach up to 15 minutes beyond it.
 */
const EPOCH_MS_MAX = 253_402_300_799_999;
const epochMs = z.number().int().min(0).max(EPOCH_MS_MAX);
const SLOT_MS = 900_000;
const MAX_SLEEP_SESSIONS = 1_000;

export const analysisQuerySchema = z
  .strictObject({
    metrics: z.array(z.enum(METRIC_CODES)).max(50),
    sleep: z.boolean(),
    since: epochMs,
    until: epochMs,
    maxPointsPerMetric: z.number().int().min(1).max(200_000),
    /**
     * A summary question's local day or week: its clinical narrative (./narratives.ts) is read
     * with the data and sent too, so the answer states the narrative's own sentences and figures.
     */
    narrative: narrativeQuerySchema.pick({ period: true, date: true, timeZone: true, zone: true }).optional(),
  })
  .refine((query) => query.since <= query.until, { path: ["until"], message: "until must not be before since" });
export type AnalysisQuery = z.input<typeof analysisQuerySchema>;
type ParsedAnalysisQuery = z.output<typeof analysisQuerySchema>;

export interface AnalysisSeries {
  unit: string;
  resolution: "sample" | "quarter_hour";
  start: number[];
  end: number[];
  value: number[];
}

/** A narrative as the enclave receives it: its sections' sentences and figures, nothing of the store's. */
export interface AnalysisNarrative {
  period: "day" | "week";
  date: string;
  endDate: string;
  timeZone: string;
  sections: {
    domain: string;
    title: string;
    sentences: string[];
    figures: { code: string; label: string; value: number | null; unit: string }[];
  }[];
  noData: string[];
}

export interface AnalysisDataset {
  metrics: Record<string, AnalysisSeries>;
  sleep?: { start: number; end: number; stages: { stage: string; start: number; end: number }[] }[];
  narrative?: AnalysisNarrative;
}

/** Every category a narrative is made of: all of them reach the enclave with it. */
const NARRATIVE_CATEGORIES = [...new Set(NARRATIVE_DOMAINS.map((domain) => DOMAIN_CATEGORY[domain]))];

/**
 * What the `ai.query` event says was read (src/audit/resource.ts): the metrics, sleep, the window;
 * with a narrative, its first date, its local days and the categories it is made of — the
 * narrative read is the analyst's and is recorded as such, in this one event.
 */
export function analysisResource(query: ParsedAnalysisQuery): string {
  const metrics = [...new Set(query.metrics)];
  const categories = new Set<string>(metrics.map(metricCategory));
  if (query.sleep) categories.add("sleep");
  if (query.narrative !== undefined) {
    const days = localDays(query.narrative.zone, query.narrative.date, PERIOD_DAYS[query.narrative.period]);
    for (const category of NARRATIVE_CATEGORIES) categories.add(category);
    return formatAuditResource({
      kind: "ai",
      date: query.narrative.date,
      categories: [...categories].sort(),
      since: Math.min(query.since, days[0]?.start ?? query.since),
      until: Math.max(query.until, days.at(-1)?.end ?? query.until),
    });
  }
  return formatAuditResource({
    kind: "ai",
    metrics: query.sleep ? [...metrics, "sleep"] : metrics,
    categories: [...categories].sort(),
    since: query.since,
    until: query.until,
  });
}

export function readAnalysisDataset(sql: SqlStorage, query: ParsedAnalysisQuery, now: number): AnalysisDataset {
  const metrics: Record<string, AnalysisSeries> = {};
  for (const metric of new Set(query.metrics)) {
    metrics[metric] = samplesOf(sql, metric, query) ?? rollupsOf(sql, metric, query);
  }
  const dataset: AnalysisDataset = { metrics };
  if (query.sleep) {
    const sessions = listSleepSessions(
      sql,
      sessionListQuerySchema.parse({ since: query.since, until: query.until, limit: MAX_SLEEP_SESSIONS }),
    );
    dataset.sleep = sessions.items.map((session) => ({
      start: session.start,
      end: session.end,
      stages: session.stages.map((stage) => ({ stage: stage.stage, start: stage.start, end: stage.end })),
    }));
  }
  if (query.narrative !== undefined) {
    // The same narrative GET /v1/narratives serves for this period and zone (stored, or computed and stored).
    const { narrative } = readNarrative(sql, query.narrative, now);
    dataset.narrative = summaryFields(narrative);
  }
  return dataset;
}

function samplesOf(sql: SqlStorage, metric: MetricCode, query: ParsedAnalysisQuery): AnalysisSeries | null {
  const series: AnalysisSeries = { unit: metricUnit(metric), resolution: "sample", start: [], end: [], value: [] };
  const rows = sql.exec<{ start_ms: number; end_ms: number; value: number }>(
    `SELECT start_ms, end_ms, value FROM observations
     WHERE metric = ? AND start_ms >= ? AND start_ms < ? AND flagged = 0
     ORDER BY start_ms LIMIT ?`,
    metric,
    query.since,
    query.until,
    query.maxPointsPerMetric + 1,
  );
  for (const row of rows) {
    if (series.value.length === query.maxPointsPerMetric) return null;
    series.start.push(row.start_ms);
    series.end.push(row.end_ms);
    series.value.push(row.value);
  }
  return series;
}

function rollupsOf(sql: SqlStorage, metric: MetricCode, query: ParsedAnalysisQuery): AnalysisSeries {
  const series: AnalysisSeries = { unit: metricUnit(metric), resolution: "quarter_hour", start: [], end: [], value: [] };
  const sum = metricAggregation(metric) === "sum";
  const rows = sql.exec<{ slot: number; sample_count: number; value_sum: number }>(
    `SELECT slot, sample_count, value_sum FROM observation_rollups
     WHERE metric = ? AND slot >= ? AND slot < ? ORDER BY slot`,
    metric,
    Math.floor(query.since / SLOT_MS),
    Math.ceil(query.until / SLOT_MS),
  );
  for (const row of rows) {
    series.start.push(row.slot * SLOT_MS);
    series.end.push((row.slot + 1) * SLOT_MS);
    series.value.push(sum ? row.value_sum : row.value_sum / row.sample_count);
  }
  return series;
}
