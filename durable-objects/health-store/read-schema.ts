import { z } from "zod";
import { METRIC_CATEGORIES } from "../../src/observations/metrics";
import { metricCodeSchema, type Observation } from "./schema";
import type { SleepStage } from "./session-schema";
import { UTC_ZONE, zoneSchema } from "./zone";

/**
 * What the HealthStore's read methods accept and answer. Instants are epoch milliseconds (UTC),
 * durations milliseconds; ranges are [since, until) on the start instant unless a method says
 * otherwise. The Worker validates the HTTP query first; these re-check at the store's boundary.
 */
const EPOCH_MS_MAX = 253_402_300_799_999;
const epochMs = z.number().int().min(0).max(EPOCH_MS_MAX);
const DAY_MS = 86_400_000;

export const RESOLUTIONS = ["raw", "hour", "day"] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** Bucketed reads are bounded so one call stays a few milliseconds of work. */
export const MAX_BUCKETED_RANGE_MS = 732 * DAY_MS;
export const MAX_READ_LIMIT = 5_000;

export const observationQuerySchema = z
  .strictObject({
    /** One metric, or several with `metrics`; neither reads every metric (raw only). */
    metric: metricCodeSchema.optional(),
    metrics: z.array(metricCodeSchema).min(1).max(50).optional(),
    since: epochMs.optional(),
    until: epochMs.optional(),
    resolution: z.enum(RESOLUTIONS).default("raw"),
    /** Where hour and day buckets begin; ignored for raw reads. */
    zone: zoneSchema.default(UTC_ZONE),
    limit: z.number().int().min(1).max(MAX_READ_LIMIT).default(100),
    cursor: z.string().min(1).max(200).optional(),
    /** Raw reads only: oldest first (absent or `asc`) or newest first, by (start, id). */
    order: z.enum(["asc", "desc"]).optional(),
    /**
     * What else the caller's cursors are bound to, e.g. the time zone a bucketed read was asked in
     * (its zone offsets are computed per request from a moving window, so the name is what stays).
     */
    cursorScope: z.string().max(100).optional(),
  })
  .superRefine((query, ctx) => {
    if (query.metric !== undefined && query.metrics !== undefined) {
      ctx.addIssue({ code: "custom", path: ["metrics"], message: "give metric or metrics, not both" });
    }
    if (query.since !== undefined && query.until !== undefined && query.since > query.until) {
      ctx.addIssue({ code: "custom", path: ["until"], message: "until must not be before since" });
    }
    if (query.resolution === "raw") return;
    if (query.metric === undefined && query.metrics === undefined) {
      ctx.addIssue({ code: "custom", path: ["metrics"], message: "bucketed reads name their metrics" });
    }
    if (query.since === undefined || query.until === undefined) {
      ctx.addIssue({ code: "custom", path: ["since"], message: "bucketed reads need since and until" });
    } else if (query.until - query.since > MAX_BUCKETED_RANGE_MS) {
      ctx.addIssue({ code: "custom", path: ["until"], message: "bucketed reads span at most 732 days" });
    }
  });
export type ObservationQuery = z.input<typeof observationQuerySchema>;
export type ParsedObservationQuery = z.output<typeof observationQuerySchema>;

/** Up to every metric in the registry: a grantee's `latest` without metrics asks for all it may see. */
export const latestMetricsSchema = z.array(metricCodeSchema).min(1).max(100);

/**
 * A period of data a reader may see, [since, until) in epoch ms (a grant's `dataSince`/`dataUntil`):
 * sessions and summaries read through it leave out anything not wholly inside.
 */
export const periodSchema = z
  .strictObject({ since: epochMs, until: epochMs })
  .refine((period) => period.since <= period.until, { path: ["until"], message: "until must not be before since" });
export type Period = z.output<typeof periodSchema>;

/** Bounds of a `latest` read: the most recent observation starting in [since, until). */
export const latestBoundsSchema = periodSchema;

export const sessionListQuerySchema = z
  .strictObject({
    /** Sessions overlapping [since, until) are listed, oldest first. */
    since: epochMs.optional(),
    until: epochMs.optional(),
    limit: z.number().int().min(1).max(1_000).default(100),
    cursor: z.string().min(1).max(200).optional(),
    /** Only sessions lying wholly inside this period (a grant's), whatever [since, until) overlaps. */
    within: periodSchema.optional(),
  })
  .refine((query) => query.since === undefined || query.until === undefined || query.since <= query.until, {
    path: ["until"],
    message: "until must not be before since",
  });
export type SessionListQuery = z.input<typeof sessionListQuerySchema>;
export type ParsedSessionListQuery = z.output<typeof sessionListQuerySchema>;

export const dailySummaryQuerySchema = z.strictObject({
  /** The local calendar date; the day runs from its local midnight to the next in `zone`. */
  date: z.iso.date(),
  zone: zoneSchema.default(UTC_ZONE),
  /**
   * Only these metric categories' sections are read (a grant's); all when omitted. Sections of
   * other categories are neither read nor returned (their aggregates absent, sleep and workouts zero).
   */
  categories: z.array(z.enum(METRIC_CATEGORIES)).max(METRIC_CATEGORIES.length).optional(),
  /** Only data inside this period is summarized: the day is cut to it, sessions must lie wholly in it. */
  within: periodSchema.optional(),
});
export type DailySummaryQuery = z.input<typeof dailySummaryQuerySchema>;
export type ParsedDailySummaryQuery = z.output<typeof dailySummaryQuerySchema>;

/** Count, sum, min and max of the unflagged samples in a span: what every aggregate is built from. */
export interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface ObservationBucket extends Aggregate {
  metric: string;
  /** The bucket's boundaries (a whole hour or local day), even where [since, until) cuts it. */
  start: number;
  end: number;
  avg: number;
}

export type ObservationPage =
  | { resolution: "raw"; items: Observation[]; nextCursor: string | null }
  | { resolution: "hour" | "day"; items: ObservationBucket[]; nextCursor: string | null };

export interface SessionSource {
  id: number;
  sourceKind: "upload" | "provider";
  sourceApp: string;
  sourceRecordId: string;
  version: number;
  start: number;
  end: number;
  zoneOffsetSeconds: number | null;
  localDate: string;
  title: string | null;
  notes: string | null;
  device: string | null;
  flagged: boolean;
}

export interface SleepTotals {
  /** end - start. */
  inBedMs: number;
  /** Light, deep, REM and unspecified sleep; the whole session when it has no stages. */
  asleepMs: number;
  byStage: Partial<Record<SleepStage, number>>;
}

export interface SleepSession extends SessionSource {
  stages: { stage: SleepStage; start: number; end: number }[];
  totals: SleepTotals;
}

export interface Workout extends SessionSource {
  exerciseType: string;
}

export interface DailySummary {
  date: string;
  start: number;
  end: number;
  /** Per metric code with data that day (unflagged samples only). */
  metrics: Record<string, Aggregate>;
  /** Blood glucose readings within 70-180 mg/dL (the consensus time-in-range target). */
  glucoseInRange: number;
  /** Sleep sessions ending that local day: the night that ended that morning (and any nap). */
  sleep: { sessions: number; inBedMs: number; asleepMs: number; byStage: Partial<Record<SleepStage, number>> };
  workouts: { count: number; durationMs: number };
}
