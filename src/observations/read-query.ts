import { z } from "zod";
import { DomainError, type FieldError } from "../errors/domain-error";
import { instantRangeProblem, isSupportedDate, MIN_INSTANT_MS, RANGE_TEXT } from "./dates";
import { isMetricCode, type MetricCode } from "./metrics";
import { parseTimeZone, startOfLocalDate, type TimeZone } from "./time-zone";

/**
 * The parts of a read query that need more than a shape check: metric codes against the registry,
 * the time zone, and instants that may be dates in that zone. Every problem is reported with its
 * parameter, all at once, as a 400.
 */
export const DAY_MS = 86_400_000;
/** Per request: bounds the work of a bucketed read (each metric is aggregated on its own). */
const MAX_METRICS = 20;

export interface RangeRule {
  /** Span used when `since` is not given. */
  defaultSpanMs: number;
  /** Longest span accepted; reads past it are refused rather than silently cut. */
  maxSpanMs: number;
  /** Named in the error, e.g. "raw observations". */
  label: string;
}

export interface ResolvedRange {
  zone: TimeZone;
  since: number;
  until: number;
}

export function parseMetrics(value: string): MetricCode[] {
  const codes = [...new Set(value.split(",").map((code) => code.trim()))].filter((code) => code !== "");
  const unknown = codes.filter((code) => !isMetricCode(code));
  if (codes.length === 0 || unknown.length > 0) {
    const message = codes.length === 0 ? "name at least one metric" : `unknown metric codes: ${unknown.join(", ")}`;
    throw invalid([{ path: "metrics", message }]);
  }
  if (codes.length > MAX_METRICS) throw invalid([{ path: "metrics", message: `at most ${MAX_METRICS} metrics` }]);
  return codes.filter(isMetricCode);
}

export function resolveZone(tz: string): TimeZone {
  const zone = parseTimeZone(tz);
  if (zone === null) throw invalid([{ path: "tz", message: "not an IANA time zone, a ±HH:MM offset or UTC" }]);
  return zone;
}

export function resolveRange(
  query: { since?: string | undefined; until?: string | undefined; tz: string },
  rule: RangeRule,
  now: number,
): ResolvedRange {
  const zone = resolveZone(query.tz);
  const errors: FieldError[] = [];
  const until = query.until === undefined ? now : parseInstant(query.until, zone, "until", errors);
  // A default start never reaches before the first supported instant: the client did not ask for it.
  const since =
    query.since === undefined
      ? Math.max(MIN_INSTANT_MS, until - rule.defaultSpanMs)
      : parseInstant(query.since, zone, "since", errors);
  if (errors.length === 0) {
    if (since > until) errors.push({ path: "since", message: "since must not be after until" });
    else if (until - since > rule.maxSpanMs) {
      errors.push({ path: "until", message: `${rule.label} span at most ${rule.maxSpanMs / DAY_MS} days` });
    }
  }
  if (errors.length > 0) throw invalid(errors);
  return { zone, since, until };
}

/**
 * An instant parameter: a date (local midnight in `zone`) or a date-time with offset, inside the
 * supported range (./dates.ts). Problems are added to `errors` under `path`.
 */
export function parseInstant(value: string, zone: TimeZone, path: string, errors: FieldError[]): number {
  let ms: number;
  if (z.iso.date().safeParse(value).success) {
    if (!isSupportedDate(value)) {
      errors.push({ path, message: `must be a date ${RANGE_TEXT}` });
      return 0;
    }
    ms = startOfLocalDate(zone, value);
  } else if (z.iso.datetime({ offset: true }).safeParse(value).success) {
    ms = Date.parse(value);
  } else {
    errors.push({ path, message: "not an ISO 8601 date-time with offset (2026-01-15T08:00:00Z) or a date (2026-01-15)" });
    return 0;
  }
  const problem = instantRangeProblem(ms);
  if (problem !== undefined) errors.push({ path, message: problem });
  return ms;
}

function invalid(errors: FieldError[]): DomainError {
  return new DomainError("VALIDATION_FAILED", "The query is not valid.", { errors });
}
