import { createRoute, z } from "@hono/zod-openapi";
import { requireAuth } from "../auth/middleware";
import { UserSchema } from "../auth/schema";
import { getDb } from "../db/client";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App } from "../http/types";
import { changeUserRole, listUsers } from "./roles";
import { RoleChangeSchema, UserIdParamSchema, UserListQuerySchema } from "./schema";

const setRole = createRoute({
  method: "put",
  path: "/v1/admin/users/{id}/role",
  operationId: "setUserRole",
  tags: ["Admin"],
  summary: "Change a user's role",
  description: "Admins only. Audited as `user.role_change`. Demoting the last admin is refused (409).",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth({ roles: ["admin"] })] as const,
  request: {
    params: UserIdParamSchema,
    body: { required: true, content: { "application/json": { schema: RoleChangeSchema } } },
  },
  responses: {
    200: { description: "The user with their new role", content: { "application/json": { schema: UserSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 415),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/admin/users",
  operationId: "listUsers",
  tags: ["Admin"],
  summary: "List users, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth({ roles: ["admin"] })] as const,
  request: { query: UserListQuerySchema },
  responses: {
    200: {
      description: "Users",
      content: { "application/json": { schema: z.object({ items: z.array(UserSchema), nextCursor: z.string().nullable() }) } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export function registerAdminRoutes(app: App): void {
  app.openapi(setRole, async (c) => {
    const user = await changeUserRole({ db: getDb(c.env.DB) }, c.req.valid("param").id, c.req.valid("json"), auditContext(c));
    return c.json(user, 200);
  });

  app.openapi(list, async (c) => {
    const { limit, cursor, role } = c.req.valid("query");
    return c.json(await listUsers({ db: getDb(c.env.DB) }, { limit, role, cursor }), 200);
  });
}
