import type { z } from "@hono/zod-openapi";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { UTC_ZONE } from "../../durable-objects/health-store/zone";
import type { AuditContext } from "../audit/event";
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

export async function readObservations(
  ctx: ReadContext,
  query: z.output<typeof ObservationQuerySchema>,
): Promise<Page<ObservationItem | BucketItem>> {
  const metrics = parseMetrics(query.metrics);
  const { zone, since, until } = resolveRange(query, RANGES[query.resolution], ctx.now);
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
  const metrics = parseMetrics(query.metrics);
  const { store, audit } = storeOf(ctx);
  const latest = await store.latest(metrics, audit);
  return { items: latest.map(presentObservation) };
}

export async function readSleep(ctx: ReadContext, query: z.output<typeof SessionQuerySchema>): Promise<Page<SleepSessionItem>> {
  const { since, until } = resolveRange(query, SESSION_RANGE, ctx.now);
  const { store, audit } = storeOf(ctx);
  const page = await store.listSleep(sessionQuery(since, until, query), audit);
  return { items: page.items.map(presentSleepSession), nextCursor: page.nextCursor };
}

export async function readWorkouts(ctx: ReadContext, query: z.output<typeof SessionQuerySchema>): Promise<Page<WorkoutItem>> {
  const { since, until } = resolveRange(query, SESSION_RANGE, ctx.now);
  const { store, audit } = storeOf(ctx);
  const page = await store.listWorkouts(sessionQuery(since, until, query), audit);
  return { items: page.items.map(presentWorkout), nextCursor: page.nextCursor };
}

export async function readDailySummary(ctx: ReadContext, query: z.output<typeof SummaryQuerySchema>): Promise<DailySummaryBody> {
  const zone = resolveZone(query.tz);
  const start = startOfLocalDate(zone, query.date);
  const { store, audit } = storeOf(ctx);
  const offsets = zone.zoneFor(start - DAY_MS, start + 3 * DAY_MS);
  const summary = await store.dailySummary({ date: query.date, zone: offsets }, audit);
  return presentSummary(summary, { name: zone.name, offsets });
}

function sessionQuery(since: number, until: number, query: { limit: number; cursor?: string | undefined }) {
  return { since, until, limit: query.limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) };
}
