import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authOf, requireAuth } from "../auth/middleware";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App, AppEnv } from "../http/types";
import { type ReadContext, readDailySummary, readLatest, readObservations, readSleep, readWorkouts } from "./read";
import {
  DailySummarySchema,
  LatestQuerySchema,
  LatestSchema,
  ObservationPageSchema,
  ObservationQuerySchema,
  SessionQuerySchema,
  SleepPageSchema,
  SummaryQuerySchema,
  WorkoutPageSchema,
} from "./schema";

/**
 * The read API (DESIGN §5): a signed-in user's own health data. `requireAuth()` asks for the full
 * `user` scope, so device credentials (`uploads:write` only) cannot read. Every read is audited by
 * the HealthStore in the same transaction; responses are `Cache-Control: no-store` (set for all of
 * /v1 by the security-headers middleware).
 */
const common = { tags: ["Health data"], security: [{ bearerAuth: [] }] };
const errors = problemResponses(400, 401, 403, 429);

const observations = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/observations",
  operationId: "listObservations",
  summary: "Observations of some metrics: raw, or hourly or daily aggregates",
  description:
    "Raw observations (`resolution=raw`, at most 31 days per request) ordered by start, or buckets per metric with " +
    "avg/min/max/count (and sum for metrics that add up) over hours or local days in `tz`. Flagged (implausible) " +
    "values appear in raw reads and are left out of buckets.",
  request: { query: ObservationQuerySchema },
  responses: { 200: { description: "One page", content: { "application/json": { schema: ObservationPageSchema } } }, ...errors },
});

const latest = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/observations/latest",
  operationId: "listLatestObservations",
  summary: "The most recent observation of each metric",
  request: { query: LatestQuerySchema },
  responses: {
    200: { description: "Latest observations", content: { "application/json": { schema: LatestSchema } } },
    ...errors,
  },
});

const sleep = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/sleep",
  operationId: "listSleepSessions",
  summary: "Sleep sessions with their stages and totals, oldest first",
  request: { query: SessionQuerySchema },
  responses: { 200: { description: "One page", content: { "application/json": { schema: SleepPageSchema } } }, ...errors },
});

const workouts = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/workouts",
  operationId: "listWorkouts",
  summary: "Workouts with their exercise type, oldest first",
  request: { query: SessionQuerySchema },
  responses: { 200: { description: "One page", content: { "application/json": { schema: WorkoutPageSchema } } }, ...errors },
});

const dailySummary = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/summary/daily",
  operationId: "getDailySummary",
  summary: "One local day: steps, energy, heart rate, HRV, glucose time in range, last night's sleep, workouts",
  request: { query: SummaryQuerySchema },
  responses: { 200: { description: "The day", content: { "application/json": { schema: DailySummarySchema } } }, ...errors },
});

function readContext(c: Context<AppEnv>): ReadContext {
  return { stores: c.env.HEALTH_STORE, userId: authOf(c).userId, audit: auditContext(c), now: Date.now() };
}

export function registerObservationRoutes(app: App): void {
  app.openapi(latest, async (c) => c.json(await readLatest(readContext(c), c.req.valid("query")), 200));
  app.openapi(observations, async (c) => c.json(await readObservations(readContext(c), c.req.valid("query")), 200));
  app.openapi(sleep, async (c) => c.json(await readSleep(readContext(c), c.req.valid("query")), 200));
  app.openapi(workouts, async (c) => c.json(await readWorkouts(readContext(c), c.req.valid("query")), 200));
  app.openapi(dailySummary, async (c) => c.json(await readDailySummary(readContext(c), c.req.valid("query")), 200));
}
