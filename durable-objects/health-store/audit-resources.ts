import { formatAuditResource } from "../../src/audit/resource";
import { type MetricCategory, metricCategory, SESSIONS } from "../../src/observations/metrics";
import type { IngestBatch } from "./batch-schema";
import type { SourceSelector } from "./delete-source";
import type { ParsedDailySummaryQuery, ParsedObservationQuery, ParsedSessionListQuery, Period } from "./read-schema";
import type { ParsedAccessLogQuery } from "./schema";
import { SUMMARY_METRICS } from "./summary";
import { utcOfLocal } from "./zone";

/**
 * The `resource` each audited operation records (grammar: src/audit/resource.ts): which metrics
 * (sessions as `sleep` and `workout`) and which period, so the person's access log can say exactly
 * what was read or written, not only that something was.
 */
const DAY_MS = 86_400_000;

export function observationReadResource(query: ParsedObservationQuery): string {
  const metrics = query.metrics ?? (query.metric === undefined ? undefined : [query.metric]);
  return formatAuditResource({ kind: "observations", metrics, since: query.since, until: query.until });
}

/** The metrics asked for and, when the read was bounded (a grant's period), those bounds. */
export function latestResource(metrics: readonly string[], period?: Period): string {
  return formatAuditResource({ kind: "latest", metrics, since: period?.since, until: period?.until });
}

export function sessionListResource(kind: "sleep" | "workouts", query: ParsedSessionListQuery): string {
  return formatAuditResource({ kind, metrics: [kind === "sleep" ? "sleep" : "workout"], since: query.since, until: query.until });
}

/**
 * The day as the summary computes it: local midnight to the next in the query's zone, cut to the
 * grant's period when there is one, and only the metrics of the categories read.
 */
export function summaryResource(query: ParsedDailySummaryQuery): string {
  const localMidnight = Date.parse(`${query.date}T00:00:00Z`);
  const reads = (category: MetricCategory) => query.categories === undefined || query.categories.includes(category);
  const metrics = [
    ...SUMMARY_METRICS.filter((metric) => reads(metricCategory(metric))),
    ...(reads(SESSIONS.sleep.category) ? ["sleep"] : []),
    ...(reads(SESSIONS.workout.category) ? ["workout"] : []),
  ];
  const since = utcOfLocal(query.zone, localMidnight);
  const until = utcOfLocal(query.zone, localMidnight + DAY_MS);
  return formatAuditResource({
    kind: "summary",
    date: query.date,
    metrics,
    since: query.within === undefined ? since : Math.max(since, query.within.since),
    until: query.within === undefined ? until : Math.min(until, query.within.until),
  });
}

export function sourceResource(source: SourceSelector): string {
  return formatAuditResource({ kind: "source", id: `${source.sourceKind}:${source.sourceApp}` });
}

/** What a batch wrote: its metrics and the span from its first start to its last end. */
export function ingestResource(batch: IngestBatch): string {
  const metrics = new Set<string>();
  let since = Number.POSITIVE_INFINITY;
  let until = Number.NEGATIVE_INFINITY;
  const span = (item: { start: number; end: number }) => {
    if (item.start < since) since = item.start;
    // Exclusive end: an instantaneous sample at T is inside [T, T + 1 ms).
    const end = Math.max(item.end, item.start + 1);
    if (end > until) until = end;
  };
  for (const observation of batch.observations) {
    metrics.add(observation.metric);
    span(observation);
  }
  if (batch.sleepSessions.length > 0) metrics.add("sleep");
  if (batch.workouts.length > 0) metrics.add("workout");
  for (const session of batch.sleepSessions) span(session);
  for (const workout of batch.workouts) span(workout);
  const bounded = Number.isFinite(since) && Number.isFinite(until);
  return formatAuditResource({
    kind: "observations",
    metrics: [...metrics],
    since: bounded ? since : undefined,
    until: bounded ? until : undefined,
  });
}

/** An auditor's read of this chain, with the period of events asked for. */
export function auditReadResource(query: ParsedAccessLogQuery): string {
  return formatAuditResource({ kind: "audit", since: query.since, until: query.until });
}
