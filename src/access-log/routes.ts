import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App, AppEnv } from "../http/types";
import { readAccessLog } from "./access-log";
import { type AuditorContext, readSecurityEvents, readUserAuditLog } from "./auditor";
import {
  AccessLogPageSchema,
  AccessLogQuerySchema,
  AccessReasonHeaderSchema,
  ChainedEventPageSchema,
  SecurityAuditQuerySchema,
  SecurityEventPageSchema,
  UserAuditParamSchema,
  UserAuditQuerySchema,
} from "./schema";

/**
 * Who saw what (DESIGN §8, docs/audit.md): the person's own access log, and the auditor's reads of
 * the D1 security chain and of one user's chain. `requireAuth()` asks for the full `user` scope,
 * so a device credential (uploads only) reaches none of them.
 */
const security = [{ bearerAuth: [] }];
const json = <T>(schema: T) => ({ "application/json": { schema } });

const accessLog = createRoute({
  method: "get",
  path: "/v1/me/access-log",
  operationId: "getAccessLog",
  tags: ["Audit"],
  summary: "Every access to your health data: who, what, when, why, with what result",
  description:
    "Newest first. `who.label` names the actor in words (you, a clinician by name and role, the analyst in the " +
    "enclave, Pulse's ingestion or provider sync, an auditor); `description` says what was done to which data " +
    "over which period. Reading this log is not itself recorded in it.",
  security,
  middleware: [requireAuth()] as const,
  request: { query: AccessLogQuerySchema },
  responses: {
    200: { description: "One page", content: json(AccessLogPageSchema) },
    ...problemResponses(400, 401, 403, 429),
  },
});

const securityEvents = createRoute({
  method: "get",
  path: "/v1/audit/security",
  operationId: "listSecurityEvents",
  tags: ["Audit"],
  summary: "The security event chain (auditors)",
  description:
    "Account and security events from the D1 chain, newest first, with their hashes. Each call is itself " +
    "recorded in the chain as `audit.read`, in the same transaction as the read.",
  security,
  middleware: [requireAuth({ roles: ["auditor"] })] as const,
  request: { query: SecurityAuditQuerySchema },
  responses: {
    200: { description: "One page", content: json(SecurityEventPageSchema) },
    ...problemResponses(400, 401, 403, 429),
  },
});

const userAudit = createRoute({
  method: "get",
  path: "/v1/audit/users/{userId}",
  operationId: "getUserAuditLog",
  tags: ["Audit"],
  summary: "One user's access audit chain (auditors, with a reason)",
  description:
    "The raw hash-chained events of the user's health-data store, newest first. `X-Access-Reason` is required " +
    "and is recorded, with the read, as an `audit.read` event in that user's chain (which the user sees in " +
    "their access log). An unknown user id is 404.",
  security,
  middleware: [requireAuth({ roles: ["auditor"] })] as const,
  request: { params: UserAuditParamSchema, query: UserAuditQuerySchema, headers: AccessReasonHeaderSchema },
  responses: {
    200: { description: "One page", content: json(ChainedEventPageSchema) },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

function auditorContext(c: Context<AppEnv>): AuditorContext {
  return { db: getDb(c.env.DB), stores: c.env.HEALTH_STORE, audit: auditContext(c) };
}

export function registerAccessLogRoutes(app: App): void {
  app.openapi(accessLog, async (c) => {
    const ctx = { db: getDb(c.env.DB), stores: c.env.HEALTH_STORE, userId: authOf(c).userId };
    return c.json(await readAccessLog(ctx, c.req.valid("query")), 200);
  });
  app.openapi(securityEvents, async (c) => c.json(await readSecurityEvents(auditorContext(c), c.req.valid("query")), 200));
  app.openapi(userAudit, async (c) => {
    const { userId } = c.req.valid("param");
    const reason = c.req.valid("header")["x-access-reason"];
    return c.json(await readUserAuditLog(auditorContext(c), userId, c.req.valid("query"), reason), 200);
  });
}
