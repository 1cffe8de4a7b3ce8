import { createRoute, z } from "@hono/zod-openapi";
import { AUDIT_PROBLEMS } from "../audit/seal/verify";
import { requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App } from "../http/types";
import { verifyAuditChain } from "./verify";

const VerifyQuerySchema = z.strictObject({
  userId: z.string().min(1).max(64).optional().openapi({
    description: "Verify this user's chain; without it, the security chain.",
    example: "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
  }),
});

const VerificationReportSchema = z
  .object({
    ok: z.boolean(),
    chain: z.string().openapi({ description: "`security`, or the user id" }),
    eventsChecked: z.number().int(),
    chunksChecked: z.number().int(),
    sealedThroughSeq: z.number().int().openapi({ description: "The last seq covered by a seal (0: nothing sealed yet)" }),
    retainedThroughSeq: z
      .number()
      .int()
      .openapi({ description: "The last seq past the 7-year retention: only its seal's hashes remain (0: none)" }),
    firstBroken: z
      .object({
        seq: z.number().int().optional(),
        chunk: z.string().optional().openapi({ description: "The R2 key of the sealed chunk concerned" }),
        problem: z.enum(AUDIT_PROBLEMS),
      })
      .optional(),
  })
  .openapi("AuditVerification");

const verify = createRoute({
  method: "get",
  path: "/v1/audit/verify",
  operationId: "verifyAudit",
  tags: ["Audit"],
  summary: "Verify an audit chain against its sealed chunks",
  description:
    "Auditors only. Walks the chain's seals (D1), sealed chunks (R2) and live events and reports the first " +
    "finding; a broken chain is a 200 with `ok: false`. An unknown user id is 404. Audited as `audit.verify`.",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth({ roles: ["auditor"] })] as const,
  request: { query: VerifyQuerySchema },
  responses: {
    200: {
      description: "The verification report",
      headers: { "Cache-Control": { schema: { type: "string" }, description: "no-store" } },
      content: { "application/json": { schema: VerificationReportSchema } },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

export function registerAuditVerifyRoutes(app: App): void {
  app.openapi(verify, async (c) => {
    const { userId } = c.req.valid("query");
    const report = await verifyAuditChain({ db: getDb(c.env.DB), env: c.env }, userId, auditContext(c));
    c.header("Cache-Control", "no-store");
    return c.json(report, 200);
  });
}
