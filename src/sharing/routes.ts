import { createRoute, z } from "@hono/zod-openapi";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import { IdParamSchema, PageQuerySchema } from "../http/schemas";
import type { App } from "../http/types";
import { ipRateLimitKey, rateLimit } from "../rate-limit/middleware";
import { listGranteeGrants, listPatientGrants } from "./grant-lists";
import { cancelInvitation, createInvitation, listInvitations } from "./invitations";
import { redeemInvitation } from "./redeem";
import { revokeGrant } from "./revoke";
import {
  CreatedInvitationSchema,
  CreateInvitationSchema,
  GranteeGrantPageSchema,
  InvitationPageSchema,
  PatientGrantPageSchema,
  RedeemedGrantSchema,
  RedeemSchema,
} from "./schema";

/**
 * Quotas. Invitations: a patient hands out a few; 20 an hour bounds a compromised session's spam.
 * Redemption: codes carry 140 bits, so guessing is hopeless anyway; these bound the load and the
 * noise of trying, per account and per address (sized for a clinic's NAT). Every attempt counts,
 * valid or not, and both fail closed: they guard a secret.
 */
export const INVITATION_QUOTA = { limit: 20, windowSeconds: 60 * 60 } as const;
export const REDEEM_USER_QUOTA = { limit: 20, windowSeconds: 15 * 60 } as const;
export const REDEEM_IP_QUOTA = { limit: 100, windowSeconds: 15 * 60 } as const;

const invitationQuota = rateLimit({
  name: "grant-invite",
  windowSeconds: INVITATION_QUOTA.windowSeconds,
  limit: () => INVITATION_QUOTA.limit,
  key: (c) => c.get("auth")?.userId,
  onLimiterError: "closed",
});

const redeemUserQuota = rateLimit({
  name: "grant-redeem-user",
  windowSeconds: REDEEM_USER_QUOTA.windowSeconds,
  limit: () => REDEEM_USER_QUOTA.limit,
  key: (c) => c.get("auth")?.userId,
  onLimiterError: "closed",
});

const redeemIpQuota = rateLimit({
  name: "grant-redeem-ip",
  windowSeconds: REDEEM_IP_QUOTA.windowSeconds,
  limit: () => REDEEM_IP_QUOTA.limit,
  key: (c) => ipRateLimitKey(c),
  onLimiterError: "closed",
});

const security = [{ bearerAuth: [] }];
const tags = ["Sharing"];

const createInvitationRoute = createRoute({
  method: "post",
  path: "/v1/me/grants/invitations",
  operationId: "createGrantInvitation",
  tags,
  summary: "Invite a clinician or researcher to read chosen categories of your data",
  description:
    "Answers the one-time code once (only its SHA-256 is stored): hand it to the person you want to share with; " +
    "they redeem it with `POST /v1/grants/redeem` within 7 days. Needs the current terms and privacy notice " +
    `accepted (403 \`CONSENT_REQUIRED\`); ${INVITATION_QUOTA.limit} invitations an hour, at most 50 pending (409).`,
  security,
  middleware: [requireAuth(), invitationQuota] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateInvitationSchema } } } },
  responses: {
    201: {
      description: "Created; `code` is shown only here",
      content: { "application/json": { schema: CreatedInvitationSchema } },
    },
    ...problemResponses(400, 401, 403, 409, 415, 429),
  },
});

const listInvitationsRoute = createRoute({
  method: "get",
  path: "/v1/me/grants/invitations",
  operationId: "listGrantInvitations",
  tags,
  summary: "Your invitations, newest first (never their codes)",
  security,
  middleware: [requireAuth()] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "Invitations", content: { "application/json": { schema: InvitationPageSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

const cancelInvitationRoute = createRoute({
  method: "delete",
  path: "/v1/me/grants/invitations/{id}",
  operationId: "cancelGrantInvitation",
  tags,
  summary: "Cancel a pending invitation (its code stops working)",
  description: "404 unless the invitation is yours and still pending (not redeemed, cancelled or expired).",
  security,
  middleware: [requireAuth()] as const,
  request: { params: IdParamSchema("inv") },
  responses: { 204: { description: "Cancelled" }, ...problemResponses(400, 401, 403, 404) },
});

const redeemRoute = createRoute({
  method: "post",
  path: "/v1/grants/redeem",
  operationId: "redeemGrantInvitation",
  tags,
  summary: "Redeem an invitation code and become a grantee",
  description:
    "Your role must be the invitation's (403 names the role needed). An unknown, expired, cancelled or used code " +
    "is 404, whatever the reason. Redeeming your own invitation is 409. " +
    `${REDEEM_USER_QUOTA.limit} attempts per 15 minutes per account, ${REDEEM_IP_QUOTA.limit} per address.`,
  security,
  middleware: [requireAuth(), redeemIpQuota, redeemUserQuota] as const,
  request: { body: { required: true, content: { "application/json": { schema: RedeemSchema } } } },
  responses: {
    201: { description: "The grant, as its grantee sees it", content: { "application/json": { schema: RedeemedGrantSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 415, 429, 503),
  },
});

const listPatientGrantsRoute = createRoute({
  method: "get",
  path: "/v1/me/grants",
  operationId: "listMyGrants",
  tags,
  summary: "Who may read your data: every grant you gave, newest first",
  security,
  middleware: [requireAuth()] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "Grants", content: { "application/json": { schema: PatientGrantPageSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

const revokeRoute = createRoute({
  method: "delete",
  path: "/v1/me/grants/{id}",
  operationId: "revokeGrant",
  tags,
  summary: "Revoke a grant; the grantee's next request is refused",
  description: "A grant already revoked, another person's or an unknown id is 404.",
  security,
  middleware: [requireAuth()] as const,
  request: { params: IdParamSchema("grt") },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 403, 404) },
});

const GranteeListQuerySchema = z.strictObject({
  ...PageQuerySchema.shape,
  status: z
    .enum(["active", "all"])
    .default("active")
    .openapi({ description: "`active` grants only (default), or `all` including revoked and expired ones" }),
});

const listGranteeGrantsRoute = createRoute({
  method: "get",
  path: "/v1/grants",
  operationId: "listGrantsToMe",
  tags,
  summary: "Patients who shared their data with you, newest grant first",
  security,
  middleware: [requireAuth()] as const,
  request: { query: GranteeListQuerySchema },
  responses: {
    200: { description: "Grants", content: { "application/json": { schema: GranteeGrantPageSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

/** Consented sharing (DESIGN §8): invitations, redemption, and both sides' grants. */
export function registerSharingRoutes(app: App): void {
  app.openapi(createInvitationRoute, async (c) => {
    const created = await createInvitation({ db: getDb(c.env.DB) }, authOf(c).userId, c.req.valid("json"), auditContext(c));
    return c.json(created, 201);
  });

  app.openapi(listInvitationsRoute, async (c) => {
    return c.json(await listInvitations({ db: getDb(c.env.DB) }, authOf(c).userId, c.req.valid("query")), 200);
  });

  app.openapi(cancelInvitationRoute, async (c) => {
    await cancelInvitation({ db: getDb(c.env.DB) }, authOf(c).userId, c.req.valid("param").id, auditContext(c));
    return c.body(null, 204);
  });

  app.openapi(redeemRoute, async (c) => {
    const { userId, role } = authOf(c);
    const grant = await redeemInvitation(
      { db: getDb(c.env.DB), env: c.env },
      { userId, role },
      c.req.valid("json").code,
      auditContext(c),
    );
    return c.json({ grant }, 201);
  });

  app.openapi(listPatientGrantsRoute, async (c) => {
    return c.json(await listPatientGrants({ db: getDb(c.env.DB) }, authOf(c).userId, c.req.valid("query")), 200);
  });

  app.openapi(revokeRoute, async (c) => {
    await revokeGrant({ db: getDb(c.env.DB), env: c.env }, authOf(c).userId, c.req.valid("param").id, auditContext(c));
    return c.body(null, 204);
  });

  app.openapi(listGranteeGrantsRoute, async (c) => {
    return c.json(await listGranteeGrants({ db: getDb(c.env.DB) }, authOf(c).userId, c.req.valid("query")), 200);
  });
}
