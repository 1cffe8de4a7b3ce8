import { createRoute } from "@hono/zod-openapi";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { CONSENT_DOCUMENTS } from "../db/schema";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App } from "../http/types";
import { legalDocumentHtml, legalDocumentPath } from "./legal";
import { acceptConsent, getConsentStatus, withdrawConsent } from "./records";
import {
  AcceptConsentSchema,
  ConsentRecordSchema,
  ConsentStatusSchema,
  WithdrawConsentSchema,
  WithdrawResultSchema,
} from "./schema";

/**
 * Consent records (DESIGN §8, docs/consent.md): `/v1/me/consents` for the signed-in person (full
 * `user` scope, so a device credential cannot accept or withdraw on their behalf), and the two
 * documents themselves under `/legal/`.
 */
const common = { tags: ["Account"], security: [{ bearerAuth: [] }] };

const status = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/me/consents",
  operationId: "getConsents",
  summary: "The current terms and privacy notice, whether you accepted them, and your consent records",
  responses: {
    200: { description: "Consent status", content: { "application/json": { schema: ConsentStatusSchema } } },
    ...problemResponses(401, 403, 429),
  },
});

const accept = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "post",
  path: "/v1/me/consents",
  operationId: "acceptConsent",
  summary: "Accept the current version of the terms or the privacy notice",
  description:
    "Only the current version (`GET /v1/me/consents` → `current`) can be accepted; any other is 409 " +
    "CONFLICT with `currentVersion`. Accepting again while that acceptance is active returns it (200) " +
    "without adding a record.",
  request: { body: { required: true, content: { "application/json": { schema: AcceptConsentSchema } } } },
  responses: {
    201: { description: "Accepted", content: { "application/json": { schema: ConsentRecordSchema } } },
    200: { description: "Already accepted", content: { "application/json": { schema: ConsentRecordSchema } } },
    ...problemResponses(400, 401, 403, 409, 415, 429),
  },
});

const withdraw = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "post",
  path: "/v1/me/consents/withdraw",
  operationId: "withdrawConsent",
  summary: "Withdraw your acceptance of the terms or the privacy notice",
  description:
    "Marks every active acceptance of the document withdrawn (records are kept, with `withdrawnAt`). " +
    "Sharing stops at once: grantees can no longer read your data and no invitation can be created " +
    "until you accept the current version again. Withdrawing what is not accepted changes nothing.",
  request: { body: { required: true, content: { "application/json": { schema: WithdrawConsentSchema } } } },
  responses: {
    200: { description: "Withdrawn", content: { "application/json": { schema: WithdrawResultSchema } } },
    ...problemResponses(400, 401, 403, 415, 429),
  },
});

// Public and rarely changed; a short cache keeps a version bump visible within minutes.
const LEGAL_CACHE = "public, max-age=300";

export function registerConsentRoutes(app: App): void {
  app.openapi(status, async (c) => {
    return c.json(await getConsentStatus(getDb(c.env.DB), authOf(c).userId), 200);
  });

  app.openapi(accept, async (c) => {
    const { record, created } = await acceptConsent(getDb(c.env.DB), authOf(c).userId, c.req.valid("json"), auditContext(c));
    return created ? c.json(record, 201) : c.json(record, 200);
  });

  app.openapi(withdraw, async (c) => {
    const db = getDb(c.env.DB);
    const userId = authOf(c).userId;
    const { withdrawn } = await withdrawConsent(db, userId, c.req.valid("json").document, auditContext(c));
    return c.json({ withdrawn, status: await getConsentStatus(db, userId) }, 200);
  });

  // The documents are pages for people, not API operations: plain routes, outside /openapi.json.
  for (const document of CONSENT_DOCUMENTS) {
    app.get(legalDocumentPath(document), (c) => c.html(legalDocumentHtml(document), 200, { "Cache-Control": LEGAL_CACHE }));
  }
}
