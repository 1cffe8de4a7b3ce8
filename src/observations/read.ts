import type { z } from "@hono/zod-openapi";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { Period } from "../../durable-objects/health-store/read-schema";
import { UTC_ZONE } from "../../durable-objects/health-store/zone";
import type { AuditContext } from "../audit/event";
import type { MetricCategory, MetricCode } from "./metrics";
import { presentBuckets, presentObservation, presentSleepSession, presentSummary, presentWorkout } from "./present";
import { DAY_MS, parseMetrics, type RangeRule, resolveRange, resolveZone } from "./read-query";
import type {
  BucketItem,
  DailySummaryBody,
  LatestQuerySchema,
  ObservationItem,
  ObservationQuerySchema,
  SessionQuerySchema,
  SleepSessionItem,
  SummaryQuerySchema,
  WorkoutItem,
} from "./schema";
import { startOfLocalDate } from "./time-zone";

/**
 * The read API's domain functions: each turns a validated query into one call of the reader's own
 * HealthStore (`idFromName(userId)` of the authenticated caller, so another person's data is not
 * addressable at all) and shapes the answer. The store records the audit event with the read.
 */
export interface ReadContext {
  stores: DurableObjectNamespace<HealthStore>;
  /** The authenticated caller, whose store is read. */
  userId: string;
  audit: AuditContext;
  now: number;
  /**
   * Set for a grantee's read (src/sharing/): only data starting in [since, until) is read, and only
   * sessions lying wholly inside it. Unset, the reader sees all of their own data.
   */
  period?: Period;
  /** Set for a grantee's read: the daily summary reads only these categories' sections. */
  categories?: readonly MetricCategory[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const RANGES: Record<"raw" | "hour" | "day", RangeRule> = {
  raw: { defaultSpanMs: DAY_MS, maxSpanMs: 31 * DAY_MS, label: "raw observations" },
  hour: { defaultSpanMs: 7 * DAY_MS, maxSpanMs: 92 * DAY_MS, label: "hourly buckets" },
  day: { defaultSpanMs: 30 * DAY_MS, maxSpanMs: 732 * DAY_MS, label: "daily buckets" },
};
const SESSION_RANGE: RangeRule = { defaultSpanMs: 30 * DAY_MS, maxSpanMs: 3_660 * DAY_MS, label: "session lists" };

function storeOf(ctx: ReadContext) {
  return { store: healthStoreFor(ctx.stores, ctx.userId), audit: { ...ctx.audit, subject: ctx.userId } };
}

/** [since, until) cut to the reader's period; empty (since = until) when they do not meet. */
function clamp(range: { since: number; until: number }, period: Period | undefined): { since: number; until: number } {
  if (period === undefined) return range;
  const since = Math.max(range.since, period.since);
  return { since, until: Math.max(since, Math.min(range.until, period.until)) };
}

export async function readObservations(
  ctx: ReadContext,
  query: z.output<typeof ObservationQuerySchema>,
): Promise<Page<ObservationItem | BucketItem>> {
  const metrics = parseMetrics(query.metrics);
  const resolved = resolveRange(query, RANGES[query.resolution], ctx.now);
  const { zone } = resolved;
  // Cutting the range cuts every bucket at the period's edge: no bucket gathers samples outside it.
  const { since, until } = clamp(resolved, ctx.period);
  const { store, audit } = storeOf(ctx);
  // Day buckets reach back to the local midnight before `since` and on to the one after `until`.
  const offsets = query.resolution === "raw" ? UTC_ZONE : zone.zoneFor(since - DAY_MS, until + DAY_MS);
  const page = await store.queryObservations(
    {
      metrics,
      since,
      until,
      resolution: query.resolution,
      zone: offsets,
      limit: query.limit,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
      // A bucket cursor from one time zone replayed in another would skip or repeat buckets.
      cursorScope: query.tz,
    },
    audit,
  );
  const items = page.resolution === "raw" ? page.items.map(presentObservation) : presentBuckets(page.items, offsets);
  return { items, nextCursor: page.nextCursor };
}

export async function readLatest(
  ctx: ReadContext,
  query: z.output<typeof LatestQuerySchema>,
): Promise<{ items: ObservationItem[] }> {
  return readLatestOf(ctx, parseMetrics(query.metrics));
}

/** The latest observation of each of `metrics` (within the reader's period, when they have one). */
export async function readLatestOf(ctx: ReadContext, metrics: readonly MetricCode[]): Promise<{ items: ObservationItem[] }> {
  const { store, audit } = storeOf(ctx);
  const latest = await store.latest([...metrics], audit, ctx.period);
  return { items: latest.map(presentObservation) };
}

export async function readSleep(ctx: ReadContext, query: z.output<typeof SessionQuerySchema>): Promise<Page<SleepSessionItem>> {
  const { since, until } = clamp(resolveRange(query, SESSION_RANGE, ctx.now), ctx.period);
  const { store, audit } = storeOf(ctx);
  const page = await store.listSleep(sessionQuery(since, until, query, ctx.period), audit);
  return { items: page.items.map(presentSleepSession), nextCursor: page.nextCursor };
}

export async function readWorkouts(ctx: ReadContext, query: z.output<typeof SessionQuerySchema>): Promise<Page<WorkoutItem>> {
  const { since, until } = clamp(resolveRange(query, SESSION_RANGE, ctx.now), ctx.period);
  const { store, audit } = storeOf(ctx);
  const page = await store.listWorkouts(sessionQuery(since, until, query, ctx.period), audit);
  return { items: page.items.map(presentWorkout), nextCursor: page.nextCursor };
}

export async function readDailySummary(ctx: ReadContext, query: z.output<typeof SummaryQuerySchema>): Promise<DailySummaryBody> {
  const zone = resolveZone(query.tz);
  const start = startOfLocalDate(zone, query.date);
  const { store, audit } = storeOf(ctx);
  const offsets = zone.zoneFor(start - DAY_MS, start + 3 * DAY_MS);
  const summary = await store.dailySummary(
    {
      date: query.date,
      zone: offsets,
      ...(ctx.categories === undefined ? {} : { categories: [...ctx.categories] }),
      ...(ctx.period === undefined ? {} : { within: ctx.period }),
    },
    audit,
  );
  return presentSummary(summary, { name: zone.name, offsets });
}

function sessionQuery(since: number, until: number, query: { limit: number; cursor?: string | undefined }, within?: Period) {
  return {
    since,
    until,
    limit: query.limit,
    ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    ...(within === undefined ? {} : { within }),
  };
}
