import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { DomainError } from "../../errors/domain-error";
import { auditContext } from "../../http/audit-context";
import { problemResponses } from "../../http/openapi";
import { IdParamSchema, PageQuerySchema } from "../../http/schemas";
import type { App } from "../../http/types";
import { findUser } from "../../users/users";
import { authOf, requireAuth } from "../middleware";
import { SessionSchema, UserSchema } from "../schema";
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

const RevokeAllQuerySchema = z.object({
  keepDevices: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true")
    .openapi({
      param: { name: "keepDevices", in: "query" },
      description: "`true` keeps the account's device credentials (background uploaders) working",
    }),
});

const revokeAll = createRoute({
  method: "delete",
  path: "/v1/me/sessions",
  operationId: "revokeAllSessions",
  tags: ["Account"],
  summary: "Sign out everywhere: revoke every session, this one included, and every device credential",
  description:
    "Ends every session of the account, the caller's own included. Device credentials " +
    "(`/v1/me/devices`, the background uploaders) are revoked too, which is what someone who lost " +
    "a phone needs; pass `?keepDevices=true` to keep them working. The answer counts both.",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  request: { query: RevokeAllQuerySchema },
  responses: {
    200: {
      description: "Revoked",
      content: {
        "application/json": {
          schema: z.object({
            revoked: z.number().int().openapi({ description: "Sessions ended" }),
            devicesRevoked: z.number().int().openapi({ description: "Device credentials revoked (0 with keepDevices=true)" }),
          }),
        },
      },
    },
    ...problemResponses(400, 401, 403),
  },
});

export function registerSessionRoutes(app: App): void {
  app.openapi(me, async (c) => {
    const auth = authOf(c);
    const user = await findUser({ db: getDb(c.env.DB) }, auth.userId);
    if (!user) throw new DomainError("NOT_FOUND", "No such user.");
    return c.json(publicUser(user), 200);
  });

  app.openapi(list, async (c) => {
    const auth = authOf(c);
    const { limit, cursor } = c.req.valid("query");
    const page = await listSessions({ db: getDb(c.env.DB), env: c.env }, auth.userId, auth.sessionId, { limit, cursor });
    return c.json(page, 200);
  });

  app.openapi(revokeOne, async (c) => {
    const auth = authOf(c);
    await revokeSession(getDb(c.env.DB), auth.userId, c.req.valid("param").id, auditContext(c));
    return c.body(null, 204);
  });

  app.openapi(revokeAll, async (c) => {
    const auth = authOf(c);
    const { keepDevices } = c.req.valid("query");
    const result = await revokeAllSessions(getDb(c.env.DB), auth.userId, auditContext(c), { keepDevices });
    return c.json(result, 200);
  });
}
