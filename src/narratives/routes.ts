import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { authOf, requireAuth } from "../auth/middleware";
import { GRANTEE_ROLES } from "../db/schema";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App, AppEnv } from "../http/types";
import { ACCESS_PURPOSES, ACCESS_REASON_HEADER, parseAccessReason } from "../sharing/access-reason";
import { granteeContext } from "../sharing/patient-routes";
import { type NarrativeReadContext, readNarrativeById, readOwnNarrative, readPatientNarrative } from "./read";
import { NarrativeIdParamsSchema, NarrativeQuerySchema, NarrativeSchema, PatientNarrativeSchema } from "./schema";

/**
 * Clinical narratives (docs/narratives.md): the person's own, by period or by id, and a grantee's
 * view of a patient's through their grant. Full `user` scope, so a device credential cannot read;
 * every read is audited by the HealthStore in the same transaction.
 */
const common = { tags: ["Health data"], security: [{ bearerAuth: [] }] };
const DESCRIPTION =
  "A few sentences per clinical domain with data (glucose, heart, blood pressure, sleep, activity, body), each with the " +
  "figures it rests on and its data coverage; computed deterministically from the stored data and kept until new data " +
  "arrives for the period (see docs/narrative-methods.md for the methods).";

const narrative = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/narratives",
  operationId: "getNarrative",
  summary: "The narrative of one local day or ISO week",
  description: DESCRIPTION,
  request: { query: NarrativeQuerySchema },
  responses: {
    200: { description: "The narrative", content: { "application/json": { schema: NarrativeSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

const narrativeById = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/narratives/{id}",
  operationId: "getNarrativeById",
  summary: "One of your stored narratives by id, regenerated first if new data arrived since",
  request: { params: NarrativeIdParamsSchema },
  responses: {
    200: { description: "The narrative", content: { "application/json": { schema: NarrativeSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

const patientNarrative = createRoute({
  ...common,
  middleware: [
    requireAuth({ roles: GRANTEE_ROLES }),
    // Checked before the query, so a read without a reason is refused whatever else it asks.
    createMiddleware<AppEnv>(async (c, next) => {
      parseAccessReason(c.req.header(ACCESS_REASON_HEADER));
      await next();
    }),
  ] as const,
  method: "get",
  path: "/v1/patients/{patientId}/narratives",
  operationId: "getPatientNarrative",
  summary: "A patient's narrative of one day or week, the sections of your grant's categories",
  description:
    "As `GET /v1/narratives`, with the sections of domains whose category the grant does not cover left out (named in " +
    "`withheld`), and, when the grant has a period of data, computed from that period alone (baselines included).",
  request: {
    params: z.object({
      patientId: z.string().openapi({ description: "The patient's user id", example: "usr_abcdefghijklmnopqrstuvwxyz" }),
    }),
    headers: z.object({
      "x-access-reason": z.string().openapi({
        description: `Why you read: ${ACCESS_PURPOSES.map((purpose) => `\`${purpose}\``).join(", ")}, optionally followed by \`; \` and a note.`,
        example: "treatment",
      }),
    }),
    query: NarrativeQuerySchema,
  },
  responses: {
    200: { description: "The narrative", content: { "application/json": { schema: PatientNarrativeSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

function ownContext(c: Context<AppEnv>): NarrativeReadContext {
  return { stores: c.env.HEALTH_STORE, userId: authOf(c).userId, audit: auditContext(c), now: Date.now() };
}

export function registerNarrativeRoutes(app: App): void {
  app.openapi(narrative, async (c) => c.json(await readOwnNarrative(ownContext(c), c.req.valid("query")), 200));
  app.openapi(narrativeById, async (c) => c.json(await readNarrativeById(ownContext(c), c.req.valid("param").id), 200));
  app.openapi(patientNarrative, async (c) =>
    c.json(await readPatientNarrative(granteeContext(c, c.req.valid("param").patientId), c.req.valid("query")), 200),
  );
}
