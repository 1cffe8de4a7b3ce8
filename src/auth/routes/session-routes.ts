import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { findUser } from "../../db/users";
import { auditContext } from "../../http/audit-context";
import { AppError } from "../../http/errors";
import { problemResponses } from "../../http/openapi";
import type { App } from "../../http/types";
import { authOf, requireAuth } from "../middleware";
import { IdParamSchema, PageQuerySchema, SessionSchema, UserSchema } from "../schema";
import { listSessions, revokeAllSessions, revokeSession } from "../session-management";
import { publicUser } from "../sessions";

const me = createRoute({
  method: "get",
  path: "/v1/me",
  operationId: "getMe",
  tags: ["Account"],
  summary: "The signed-in user",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  responses: {
    200: { description: "User", content: { "application/json": { schema: UserSchema } } },
    ...problemResponses(401, 403),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/me/sessions",
  operationId: "listSessions",
  tags: ["Account"],
  summary: "Live sessions of the signed-in user, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: {
      description: "Sessions",
      content: { "application/json": { schema: z.object({ items: z.array(SessionSchema), nextCursor: z.string().nullable() }) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

const revokeOne = createRoute({
  method: "delete",
  path: "/v1/me/sessions/{id}",
  operationId: "revokeSession",
  tags: ["Account"],
  summary: "Revoke one session (sign out that device)",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  request: { params: IdParamSchema("ses") },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 403, 404) },
});

const revokeAll = createRoute({
  method: "delete",
  path: "/v1/me/sessions",
  operationId: "revokeAllSessions",
  tags: ["Account"],
  summary: "Revoke every session, this one included (sign out everywhere)",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  responses: {
    200: { description: "Revoked", content: { "application/json": { schema: z.object({ revoked: z.number().int() }) } } },
    ...problemResponses(401, 403),
  },
});

function parseCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  if (!/^\d{1,15}$/.test(cursor))
    throw new AppError("VALIDATION_FAILED", "Invalid cursor.", {
      errors: [{ path: "cursor", message: "not a cursor from this list" }],
    });
  return Number(cursor);
}

export function registerSessionRoutes(app: App): void {
  app.openapi(me, async (c) => {
    const auth = authOf(c);
    const user = await findUser({ db: getDb(c.env.DB) }, auth.userId);
    if (!user) throw new AppError("NOT_FOUND", "No such user.");
    return c.json(publicUser(user), 200);
  });

  app.openapi(list, async (c) => {
    const auth = authOf(c);
    const { limit, cursor } = c.req.valid("query");
    const before = parseCursor(cursor);
    const page = await listSessions(getDb(c.env.DB), auth.userId, auth.sessionId, { limit, ...(before ? { before } : {}) });
    return c.json(page, 200);
  });

  app.openapi(revokeOne, async (c) => {
    const auth = authOf(c);
    await revokeSession(getDb(c.env.DB), auth.userId, c.req.valid("param").id, auditContext(c));
    return c.body(null, 204);
  });

  app.openapi(revokeAll, async (c) => {
    const auth = authOf(c);
    const revoked = await revokeAllSessions(getDb(c.env.DB), auth.userId, auditContext(c));
    return c.json({ revoked }, 200);
  });
}
