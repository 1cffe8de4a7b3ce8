import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { GRANTEE_ROLES } from "../db/schema";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App, AppEnv } from "../http/types";
import { METRIC_CATEGORIES } from "../observations/metrics";
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
} from "../observations/schema";
import { ACCESS_PURPOSES, ACCESS_REASON_HEADER, parseAccessReason } from "./access-reason";
import {
  type GranteeReadContext,
  readPatientDailySummary,
  readPatientLatest,
  readPatientObservations,
  readPatientSleep,
  readPatientWorkouts,
} from "./patient-reads";

/**
 * A clinician's or researcher's reads of a patient who shared data with them (DESIGN §8): the
 * patient's own read routes under /v1/patients/{patientId}, same queries, same answers, limited to
 * the grant. Full `user` scope (a device credential cannot read), the grantee roles only, and a
 * stated reason on every request.
 */
const common = { tags: ["Health data"], security: [{ bearerAuth: [] }] };
const errors = problemResponses(400, 401, 403, 404, 429);

/** Checked before the query, so a read without a reason is refused whatever else it asks. */
const requireAccessReason = createMiddleware<AppEnv>(async (c, next) => {
  parseAccessReason(c.req.header(ACCESS_REASON_HEADER));
  await next();
});
const requireGrantee = requireAuth({ roles: GRANTEE_ROLES });

const params = z.object({
  // Any string: a malformed id is answered like one never shared (404), not with a 400 that would
  // tell ids that exist from ids that cannot.
  patientId: z.string().openapi({ description: "The patient's user id", example: "usr_abcdefghijklmnopqrstuvwxyz" }),
});
const headers = z.object({
  "x-access-reason": z.string().openapi({
    description:
      `Why you read: ${ACCESS_PURPOSES.map((purpose) => `\`${purpose}\``).join(", ")}, optionally followed by \`; \` and ` +
      "a note of 1-200 printable characters. Recorded in the patient's access log.",
    example: "treatment; follow-up after the March visit",
  }),
});
const request = <Q extends z.ZodType>(query: Q) => ({ params, headers, query });

const PatientLatestQuerySchema = LatestQuerySchema.partial();
const PatientDailySummarySchema = DailySummarySchema.extend({
  sleep: DailySummarySchema.shape.sleep.nullable(),
  workouts: DailySummarySchema.shape.workouts.nullable(),
  categories: z.array(z.enum(METRIC_CATEGORIES)).openapi({
    description: "The grant's categories this summary shows; sections of the others are null",
  }),
}).openapi("PatientDailySummary");

const observations = createRoute({
  ...common,
  middleware: [requireGrantee, requireAccessReason] as const,
  method: "get",
  path: "/v1/patients/{patientId}/observations",
  operationId: "listPatientObservations",
  summary: "A patient's observations, within your grant",
  description:
    "The query and answer of `GET /v1/observations`, for the metrics of the grant's categories and the data of its " +
    "period: the range is cut to the period, so no bucket holds a sample from outside it.",
  request: request(ObservationQuerySchema),
  responses: { 200: { description: "One page", content: { "application/json": { schema: ObservationPageSchema } } }, ...errors },
});

const latest = createRoute({
  ...common,
  middleware: [requireGrantee, requireAccessReason] as const,
  method: "get",
  path: "/v1/patients/{patientId}/observations/latest",
  operationId: "listPatientLatestObservations",
  summary: "A patient's most recent observation of each metric, within your grant",
  description: "Without `metrics`, every metric of the grant's categories. The latest within the grant's period.",
  request: request(PatientLatestQuerySchema),
  responses: {
    200: { description: "Latest observations", content: { "application/json": { schema: LatestSchema } } },
    ...errors,
  },
});

const sleep = createRoute({
  ...common,
  middleware: [requireGrantee, requireAccessReason] as const,
  method: "get",
  path: "/v1/patients/{patientId}/sleep",
  operationId: "listPatientSleepSessions",
  summary: "A patient's sleep sessions (category `sleep`), within your grant",
  description: "As `GET /v1/sleep`; a session reaching outside the grant's period is left out whole.",
  request: request(SessionQuerySchema),
  responses: { 200: { description: "One page", content: { "application/json": { schema: SleepPageSchema } } }, ...errors },
});

const workouts = createRoute({
  ...common,
  middleware: [requireGrantee, requireAccessReason] as const,
  method: "get",
  path: "/v1/patients/{patientId}/workouts",
  operationId: "listPatientWorkouts",
  summary: "A patient's workouts (category `activity`), within your grant",
  description: "As `GET /v1/workouts`; a workout reaching outside the grant's period is left out whole.",
  request: request(SessionQuerySchema),
  responses: { 200: { description: "One page", content: { "application/json": { schema: WorkoutPageSchema } } }, ...errors },
});

const dailySummary = createRoute({
  ...common,
  middleware: [requireGrantee, requireAccessReason] as const,
  method: "get",
  path: "/v1/patients/{patientId}/summary/daily",
  operationId: "getPatientDailySummary",
  summary: "One local day of a patient, the sections of your grant's categories",
  description:
    "As `GET /v1/summary/daily`, with the sections of categories not granted null: steps, energy and workouts " +
    "(`activity`), heart rate and HRV (`vitals`), glucose (`glucose`), sleep (`sleep`). Only the part of the day " +
    "inside the grant's period is summarized.",
  request: request(SummaryQuerySchema),
  responses: {
    200: { description: "The day", content: { "application/json": { schema: PatientDailySummarySchema } } },
    ...errors,
  },
});

/** Who reads a patient's data through a grant, and why (their `X-Access-Reason`), for this request. */
export function granteeContext(c: Context<AppEnv>, patientId: string): GranteeReadContext {
  const auth = authOf(c);
  const reason = parseAccessReason(c.req.header(ACCESS_REASON_HEADER));
  return {
    db: getDb(c.env.DB),
    stores: c.env.HEALTH_STORE,
    granteeId: auth.userId,
    granteeRole: auth.role,
    patientId,
    audit: auditContext(c, { reason }),
    now: Date.now(),
  };
}

export function registerPatientRoutes(app: App): void {
  app.openapi(latest, async (c) =>
    c.json(await readPatientLatest(granteeContext(c, c.req.valid("param").patientId), c.req.valid("query")), 200),
  );
  app.openapi(observations, async (c) =>
    c.json(await readPatientObservations(granteeContext(c, c.req.valid("param").patientId), c.req.valid("query")), 200),
  );
  app.openapi(sleep, async (c) =>
    c.json(await readPatientSleep(granteeContext(c, c.req.valid("param").patientId), c.req.valid("query")), 200),
  );
  app.openapi(workouts, async (c) =>
    c.json(await readPatientWorkouts(granteeContext(c, c.req.valid("param").patientId), c.req.valid("query")), 200),
  );
  app.openapi(dailySummary, async (c) =>
    c.json(await readPatientDailySummary(granteeContext(c, c.req.valid("param").patientId), c.req.valid("query")), 200),
  );
}
