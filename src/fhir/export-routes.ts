import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { TypedResponse } from "hono";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { newId } from "../db/ids";
import { users } from "../db/schema";
import { DomainError, type FieldError } from "../errors/domain-error";
import { EXPORTS_PER_DAY } from "../exports/exports";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import { FHIR_JSON, FHIR_PATH_PREFIX } from "../http/operation-outcome";
import type { App } from "../http/types";
import { RANGE_TEXT } from "../observations/dates";
import { parseInstant, resolveZone } from "../observations/read-query";
import { rateLimit } from "../rate-limit/middleware";
import { FHIR_NDJSON, openFhirExport, pullStream } from "./export-stream";

/**
 * `GET /v1/me/export/fhir`: the signed-in person's data as FHIR R4, streamed (docs/fhir.md "Bulk
 * export"). A session (`user` scope) only: a device credential uploads, it does not read.
 */
const DAY_SECONDS = 86_400;

/**
 * Each export reads the whole store, like the account archive: the same number a day, counted
 * exactly per person (and apart from the archive's), failing closed when the limiter is down.
 * Only a request that will export is counted: a malformed one is answered 400 by the validation
 * after this middleware, and a typo must not use up one of the day's few exports.
 */
const exportQuota = rateLimit({
  name: "fhir-export",
  windowSeconds: DAY_SECONDS,
  limit: () => EXPORTS_PER_DAY,
  key: (c) => (isValidExportQuery(c.req.queries()) ? c.get("auth")?.userId : undefined),
  onLimiterError: "closed",
});

const instant = (description: string) =>
  z
    .string()
    .max(40)
    .optional()
    .openapi({ description: `${description} ISO 8601 date-time with offset, or a date (UTC midnight), ${RANGE_TEXT}.` });

const ExportQuerySchema = z.strictObject({
  format: z.enum(["bundle", "ndjson"]).default("bundle").openapi({
    description:
      "`bundle`: one FHIR `collection` Bundle (`application/fhir+json`). `ndjson`: one resource a line (`application/fhir+ndjson`).",
  }),
  since: instant("Only data from this instant on (samples starting, sessions ending after it)."),
  until: instant("Only data before this instant (samples and sessions starting before it)."),
});

const binary = z.string().openapi({ type: "string", format: "binary" });

const exportFhir = createRoute({
  tags: ["Account"],
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth(), exportQuota] as const,
  method: "get",
  path: "/v1/me/export/fhir",
  operationId: "exportFhir",
  summary: "Download all of your data as FHIR R4, streamed",
  description:
    "A `collection` Bundle with your Patient first, then every Observation (samples, blood-pressure panels, " +
    "sleep, workouts), then the Devices that recorded them; or, with `format=ndjson`, the same resources one a " +
    "line. Streamed as it is read: a failure part-way aborts the transfer, so a download that completes is the " +
    `whole export. At most ${EXPORTS_PER_DAY} a day (429). Recorded in your access log.`,
  request: { query: ExportQuerySchema },
  responses: {
    200: {
      description: "The export, as an attachment",
      content: { [FHIR_JSON]: { schema: binary }, [FHIR_NDJSON]: { schema: binary } },
    },
    ...problemResponses(400, 401, 403, 429, 503),
  },
});

export function registerFhirExportRoutes(app: App): void {
  app.openapi(exportFhir, async (c) => {
    const query = c.req.valid("query");
    const range = parseRange(query);
    const { userId } = authOf(c);
    const [user] = await getDb(c.env.DB)
      .select({ displayName: users.displayName })
      .from(users)
      .where(eq(users.id, userId))
      .limit(1);
    const exportId = newId("exp");
    const requestId = c.get("requestId") ?? null;
    const opened = await openFhirExport(healthStoreFor(c.env.HEALTH_STORE, userId), {
      exportId,
      format: query.format,
      baseUrl: `${new URL(c.req.url).origin}${FHIR_PATH_PREFIX}`,
      patient: { userId, displayName: user?.displayName ?? null },
      ...range,
      audit: { ...auditContext(c), subject: userId },
    });
    const ndjson = query.format === "ndjson";
    const response = c.body(pullStream(opened.chunks, { requestId }), 200, {
      "Content-Type": ndjson ? FHIR_NDJSON : FHIR_JSON,
      "Content-Disposition": `attachment; filename="pulse-fhir-${exportId}.${ndjson ? "ndjson" : "json"}"`,
      "Cache-Control": "no-store",
    });
    // The typings take any `+json` media type for a JSON body built by c.json(); this one is
    // streamed text in that media type, as the document declares (binary).
    return response as unknown as TypedResponse<string, 200, "json">;
  });
}

/** Whether the query will pass the route's validation: each parameter once, the schema, the range. */
function isValidExportQuery(queries: Record<string, string[]>): boolean {
  const entries = Object.entries(queries);
  if (entries.some(([, values]) => values.length !== 1)) return false;
  const parsed = ExportQuerySchema.safeParse(Object.fromEntries(entries.map(([name, values]) => [name, values[0]])));
  if (!parsed.success) return false;
  try {
    parseRange(parsed.data);
    return true;
  } catch (error) {
    if (error instanceof DomainError) return false;
    throw error;
  }
}

/** `since`/`until` as epoch ms; dates are UTC midnights. Every problem is reported at once. */
function parseRange(query: { since?: string | undefined; until?: string | undefined }): { since?: number; until?: number } {
  const zone = resolveZone("UTC");
  const errors: FieldError[] = [];
  const since = query.since === undefined ? undefined : parseInstant(query.since, zone, "since", errors);
  const until = query.until === undefined ? undefined : parseInstant(query.until, zone, "until", errors);
  if (errors.length === 0 && since !== undefined && until !== undefined && since > until)
    errors.push({ path: "since", message: "since must not be after until" });
  if (errors.length > 0) throw new DomainError("VALIDATION_FAILED", "The query is not valid.", { errors });
  return { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
}
