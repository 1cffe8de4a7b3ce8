import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { auditContext } from "../http/audit-context";
import { OPENAPI_DOCUMENT } from "../http/openapi";
import { FHIR_JSON } from "../http/operation-outcome";
import type { App, AppEnv } from "../http/types";
import { ACCESS_REASON_HEADER } from "../sharing/access-reason";
import { notShared } from "../sharing/grant-access";
import { fhirFormat, fhirResponse } from "./format";
import { userIdOfPatient } from "./ids";
import {
  type FhirRequest,
  readDevice,
  readObservation,
  readPatient,
  searchDevices,
  searchObservations,
  searchPatients,
} from "./read";
import { capabilityStatement } from "./resources";
import { parseObservationSearch, parseOnly, patientOf } from "./search";

/**
 * The FHIR R4 read API (docs/fhir.md "API"): `metadata`, `Patient`, `Observation` search and read,
 * `Device`. Answers are `application/fhir+json`; every error, from authentication to validation,
 * is an OperationOutcome (src/http/operation-outcome.ts). Everything but `metadata` needs a
 * session with the full `user` scope: a device credential cannot read.
 */
const PREFIX = "/v1/fhir";
const common = { tags: ["FHIR"], security: [{ bearerAuth: [] }] };

const ResourceSchema = z.object({ resourceType: z.string() }).passthrough();
const BundleSchema = ResourceSchema.openapi("FhirBundle", { description: "A FHIR R4 Bundle (searchset)" });
const ObservationSchema = ResourceSchema.openapi("FhirObservation", { description: "A FHIR R4 Observation" });
const PatientSchema = ResourceSchema.openapi("FhirPatient", { description: "A FHIR R4 Patient" });
const DeviceSchema = ResourceSchema.openapi("FhirDevice", { description: "A FHIR R4 Device" });
const CapabilitySchema = ResourceSchema.openapi("FhirCapabilityStatement", { description: "A FHIR R4 CapabilityStatement" });
const OutcomeSchema = ResourceSchema.openapi("FhirOperationOutcome", { description: "A FHIR R4 OperationOutcome" });

function answer(description: string, schema: z.ZodType) {
  return { 200: { description, content: { [FHIR_JSON]: { schema } } } };
}

function outcomes(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: "OperationOutcome", content: { [FHIR_JSON]: { schema: OutcomeSchema } } }]),
  );
}

const format = z.string().optional().openapi({ description: "json, application/json or application/fhir+json; XML is 406" });
const patientParam = z.string().optional().openapi({
  description:
    "Whose data: `Patient/usr-…` or `usr-…`; by default your own. Clinicians and researchers name a patient who shared with them.",
});
const reasonHeader = z.object({
  "x-access-reason": z.string().optional().openapi({
    description: "Required when reading another patient's data through a grant: why you read (see /v1/patients).",
  }),
});
const errors = outcomes(400, 401, 403, 404, 406, 429);

const metadata = createRoute({
  tags: ["FHIR"],
  security: [],
  method: "get",
  path: `${PREFIX}/metadata`,
  operationId: "getFhirCapabilityStatement",
  summary: "The server's CapabilityStatement (no sign-in: FHIR clients read it first)",
  request: { query: z.object({ _format: format }) },
  responses: { ...answer("CapabilityStatement", CapabilitySchema), ...outcomes(400, 406, 429) },
});

const patientRead = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: `${PREFIX}/Patient/{id}`,
  operationId: "readFhirPatient",
  summary: "A Patient: yourself, or a patient who shared data with you",
  request: { params: z.object({ id: z.string() }), headers: reasonHeader, query: z.object({ _format: format }) },
  responses: { ...answer("Patient", PatientSchema), ...errors },
});

const patientSearch = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: `${PREFIX}/Patient`,
  operationId: "searchFhirPatients",
  summary: "Search Patients by `_id` (yourself by default)",
  request: { headers: reasonHeader, query: z.object({ _id: z.string().optional(), _format: format }) },
  responses: { ...answer("searchset Bundle", BundleSchema), ...errors },
});

const observationSearch = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: `${PREFIX}/Observation`,
  operationId: "searchFhirObservations",
  summary: "Search Observations: samples, blood-pressure panels, sleep and workouts by date",
  description:
    "A searchset Bundle with `next` links. `code` (system|code, |code or code; comma = OR), `category`, `date` " +
    "(repeatable; eq, lt, le, gt, ge, sa, eb with FHIR precision), `_count` (1-1000, default 50), `_sort` (date or " +
    "-date), `resolution=hour` (hourly summaries). Any other parameter is a 400 naming it (docs/fhir.md).",
  request: {
    headers: reasonHeader,
    query: z.object({
      patient: patientParam,
      subject: z.string().optional().openapi({ description: "Same as patient" }),
      code: z.string().optional(),
      category: z.string().optional(),
      date: z.union([z.string(), z.array(z.string())]).optional(),
      _count: z.string().optional(),
      _sort: z.string().optional(),
      resolution: z.string().optional(),
      _cursor: z.string().optional().openapi({ description: "Opaque: follow the Bundle's next link" }),
      _format: format,
    }),
  },
  responses: { ...answer("searchset Bundle", BundleSchema), ...errors },
});

const observationRead = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: `${PREFIX}/Observation/{id}`,
  operationId: "readFhirObservation",
  summary: "One Observation by id (`obs-`, `bp-`, `sleep-`, `workout-`, `hourly-`)",
  request: {
    params: z.object({ id: z.string() }),
    headers: reasonHeader,
    query: z.object({ patient: patientParam, _format: format }),
  },
  responses: { ...answer("Observation", ObservationSchema), ...errors },
});

const deviceSearch = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: `${PREFIX}/Device`,
  operationId: "searchFhirDevices",
  summary: "The devices and source apps your (or a patient's shared) data came from",
  request: { headers: reasonHeader, query: z.object({ patient: patientParam, _format: format }) },
  responses: { ...answer("searchset Bundle", BundleSchema), ...errors },
});

const deviceRead = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: `${PREFIX}/Device/{id}`,
  operationId: "readFhirDevice",
  summary: "One Device by id",
  request: {
    params: z.object({ id: z.string() }),
    headers: reasonHeader,
    query: z.object({ patient: patientParam, _format: format }),
  },
  responses: { ...answer("Device", DeviceSchema), ...errors },
});

function baseUrlOf(c: Context<AppEnv>): string {
  return `${new URL(c.req.url).origin}${PREFIX}`;
}

function fhirRequest(c: Context<AppEnv>): FhirRequest {
  const auth = authOf(c);
  return {
    caller: {
      db: getDb(c.env.DB),
      stores: c.env.HEALTH_STORE,
      userId: auth.userId,
      role: auth.role,
      audit: auditContext(c),
      reason: c.req.header(ACCESS_REASON_HEADER),
      now: Date.now(),
    },
    baseUrl: baseUrlOf(c),
    url: new URL(c.req.url),
  };
}

/** The user id a `patient` parameter names; a malformed one is answered like one never shared (404). */
function patientParamOf(params: Record<string, string>): string | undefined {
  const value = params.patient;
  if (value === undefined) return undefined;
  const userId = patientOf(value);
  if (userId === null) throw notShared();
  return userId;
}

function searchParams(c: Context<AppEnv>): URLSearchParams {
  return new URL(c.req.url).searchParams;
}

export function registerFhirRoutes(app: App): void {
  app.use(`${PREFIX}/*`, fhirFormat());
  app.openapi(metadata, (c) => {
    parseOnly(searchParams(c), ["_format"]);
    return fhirResponse(c, capabilityStatement(baseUrlOf(c), { version: OPENAPI_DOCUMENT.info.version }));
  });
  app.openapi(patientRead, async (c) => {
    parseOnly(searchParams(c), ["_format"]);
    return fhirResponse(c, await readPatient(fhirRequest(c), userIdOfPatient(c.req.valid("param").id)));
  });
  app.openapi(patientSearch, async (c) => {
    const params = parseOnly(searchParams(c), ["_id", "_format"]);
    return fhirResponse(c, await searchPatients(fhirRequest(c), params._id));
  });
  app.openapi(observationSearch, async (c) => {
    const search = parseObservationSearch(searchParams(c));
    return fhirResponse(c, await searchObservations(fhirRequest(c), search));
  });
  app.openapi(observationRead, async (c) => {
    const patient = patientParamOf(parseOnly(searchParams(c), ["patient", "_format"]));
    return fhirResponse(c, await readObservation(fhirRequest(c), c.req.valid("param").id, patient));
  });
  app.openapi(deviceSearch, async (c) => {
    const patient = patientParamOf(parseOnly(searchParams(c), ["patient", "_format"]));
    return fhirResponse(c, await searchDevices(fhirRequest(c), patient));
  });
  app.openapi(deviceRead, async (c) => {
    const patient = patientParamOf(parseOnly(searchParams(c), ["patient", "_format"]));
    return fhirResponse(c, await readDevice(fhirRequest(c), c.req.valid("param").id, patient));
  });
}
