import type { z } from "@hono/zod-openapi";
import type { HealthStore } from "../../durable-objects/health-store";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import { formatAuditResource } from "../audit/resource";
import type { Db } from "../db/client";
import type { UserRole } from "../db/schema/users";
import {
  METRIC_CATEGORIES,
  type MetricCategory,
  type MetricCode,
  metricCategory,
  metricsInCategory,
  SESSIONS,
} from "../observations/metrics";
import {
  type Page,
  type ReadContext,
  readDailySummary,
  readLatestOf,
  readObservations,
  readSleep,
  readWorkouts,
} from "../observations/read";
import { parseMetrics } from "../observations/read-query";
import type {
  BucketItem,
  DailySummaryBody,
  ObservationItem,
  ObservationQuerySchema,
  SessionQuerySchema,
  SleepSessionItem,
  SummaryQuerySchema,
  WorkoutItem,
} from "../observations/schema";
import {
  type ActiveGrant,
  activeGrantsFor,
  categoryForbidden,
  chooseGrant,
  grantCategories,
  grantPeriod,
  touchGrant,
} from "./grant-access";

/**
 * A grantee's reads of a patient's data (DESIGN §8): the patient's own read functions
 * (src/observations/read.ts) on the patient's store, limited to one active grant's categories and
 * period, with the grantee as the audit actor and their stated reason. The grant is checked in D1
 * before the patient's HealthStore is addressed at all, so an id never shared with the caller
 * never creates a Durable Object. A category outside the grant is refused (403) and that refusal
 * is recorded in the patient's chain as a `denied` event.
 */
export interface GranteeReadContext {
  db: Db;
  stores: DurableObjectNamespace<HealthStore>;
  granteeId: string;
  granteeRole: UserRole;
  patientId: string;
  /** The grantee's audit context, its reason the X-Access-Reason header. */
  audit: AuditContext;
  now: number;
}

/** What the daily summary shows, by category; the order its sections are chosen by. */
const SUMMARY_SECTIONS = {
  activity: ["steps", "activeEnergy", "totalEnergy", "workouts"],
  vitals: ["heartRate", "restingHeartRate", "hrvRmssd", "hrvSdnn"],
  glucose: ["glucose"],
  sleep: ["sleep"],
} as const satisfies Partial<Record<MetricCategory, readonly (keyof DailySummaryBody)[]>>;
type SummaryCategory = keyof typeof SUMMARY_SECTIONS;
const SUMMARY_CATEGORIES = Object.keys(SUMMARY_SECTIONS) as SummaryCategory[];

export type PatientDailySummary = Omit<DailySummaryBody, "sleep" | "workouts"> & {
  sleep: DailySummaryBody["sleep"] | null;
  workouts: DailySummaryBody["workouts"] | null;
  categories: SummaryCategory[];
};

export async function readPatientObservations(
  ctx: GranteeReadContext,
  query: z.output<typeof ObservationQuerySchema>,
): Promise<Page<ObservationItem | BucketItem>> {
  const metrics = parseMetrics(query.metrics);
  const grant = await authorize(ctx, { required: categoriesOf(metrics), denied: observationsRead(metrics) });
  const page = await readObservations(readContext(ctx, grant), query);
  await touchGrant(ctx.db, grant, ctx.now);
  return page;
}

/**
 * The latest of each metric asked for, or without `metrics` of every metric the grant covers,
 * each the latest within the grant's period.
 */
export async function readPatientLatest(
  ctx: GranteeReadContext,
  query: { metrics?: string | undefined },
): Promise<{ items: ObservationItem[] }> {
  const asked = query.metrics === undefined ? undefined : parseMetrics(query.metrics);
  const grant = await authorize(
    ctx,
    asked === undefined ? { preferred: METRIC_CATEGORIES } : { required: categoriesOf(asked), denied: observationsRead(asked) },
  );
  const metrics = asked ?? grantCategories(grant).flatMap((category) => metricsInCategory(category));
  // A grant of sessions only (sleep) has no metric to read: nothing read, nothing recorded.
  const result = metrics.length === 0 ? { items: [] } : await readLatestOf(readContext(ctx, grant), metrics);
  await touchGrant(ctx.db, grant, ctx.now);
  return result;
}

export async function readPatientSleep(
  ctx: GranteeReadContext,
  query: z.output<typeof SessionQuerySchema>,
): Promise<Page<SleepSessionItem>> {
  const grant = await authorize(ctx, {
    required: [SESSIONS.sleep.category],
    denied: { action: "sleep.read", resource: formatAuditResource({ kind: "sleep", metrics: ["sleep"] }) },
  });
  const page = await readSleep(readContext(ctx, grant), query);
  await touchGrant(ctx.db, grant, ctx.now);
  return page;
}

export async function readPatientWorkouts(
  ctx: GranteeReadContext,
  query: z.output<typeof SessionQuerySchema>,
): Promise<Page<WorkoutItem>> {
  const grant = await authorize(ctx, {
    required: [SESSIONS.workout.category],
    denied: { action: "workouts.read", resource: formatAuditResource({ kind: "workouts", metrics: ["workout"] }) },
  });
  const page = await readWorkouts(readContext(ctx, grant), query);
  await touchGrant(ctx.db, grant, ctx.now);
  return page;
}

/**
 * The day's summary with only the sections of the grant's categories: the others are null (and
 * never read from the store); `categories` names the ones shown.
 */
export async function readPatientDailySummary(
  ctx: GranteeReadContext,
  query: z.output<typeof SummaryQuerySchema>,
): Promise<PatientDailySummary> {
  const grant = await authorize(ctx, { preferred: SUMMARY_CATEGORIES });
  const granted = grantCategories(grant);
  const categories = SUMMARY_CATEGORIES.filter((category) => granted.includes(category));
  const summary = await readDailySummary({ ...readContext(ctx, grant), categories }, query);
  await touchGrant(ctx.db, grant, ctx.now);
  const shown: PatientDailySummary = { ...summary, categories };
  for (const category of SUMMARY_CATEGORIES) {
    if (categories.includes(category)) continue;
    for (const section of SUMMARY_SECTIONS[category]) shown[section] = null;
  }
  return shown;
}

function categoriesOf(metrics: readonly MetricCode[]): MetricCategory[] {
  return [...new Set(metrics.map(metricCategory))];
}

function observationsRead(metrics: readonly MetricCode[]) {
  return { action: "observations.read", resource: formatAuditResource({ kind: "observations", metrics }) };
}

export interface GrantNeed {
  /** Categories the grant must cover, all of them. */
  required?: readonly MetricCategory[];
  /** Categories a read without an explicit list would show: the grant covering most of them wins. */
  preferred?: readonly MetricCategory[];
  /** The event recorded in the patient's chain, as `denied`, when no grant covers `required`. */
  denied?: { action: string; resource: string };
}

/**
 * The grant this read goes through: 404 when the patient has not shared with the caller (before
 * any store is touched), 403 (recorded as `denied` in the patient's chain) when no active grant
 * covers every category in `required`.
 */
export async function authorize(ctx: GranteeReadContext, need: GrantNeed): Promise<ActiveGrant> {
  const active = await activeGrantsFor(ctx.db, ctx);
  const choice = chooseGrant(active, need.required ?? [], need.preferred ?? []);
  if ("grant" in choice) return choice.grant;
  const { denied } = need;
  if (denied !== undefined) {
    await healthStoreFor(ctx.stores, ctx.patientId).appendAuditEvent(
      { ...denied, result: "denied" },
      { ...ctx.audit, subject: ctx.patientId },
    );
  }
  throw categoryForbidden(choice);
}

function readContext(ctx: GranteeReadContext, grant: ActiveGrant): ReadContext {
  const period = grantPeriod(grant);
  return {
    stores: ctx.stores,
    userId: ctx.patientId,
    audit: ctx.audit,
    now: ctx.now,
    ...(period === undefined ? {} : { period }),
  };
}
