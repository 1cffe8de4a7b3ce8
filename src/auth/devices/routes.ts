import { createRoute } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { auditContext } from "../../http/audit-context";
import { problemResponses } from "../../http/openapi";
import { IdParamSchema, PageQuerySchema } from "../../http/schemas";
import type { App } from "../../http/types";
import { authOf, requireAuth } from "../middleware";
import { createDevice, listDevices, revokeDevice } from "./devices";
import { CreateDeviceSchema, CreatedDeviceSchema, DevicePageSchema } from "./schema";

// Managing devices needs the full account (`user` scope): a device credential cannot mint more.
const create = createRoute({
  method: "post",
  path: "/v1/me/devices",
  operationId: "createDevice",
  tags: ["Devices"],
  summary: "Create a device credential (uploads:write only, DPoP-bound)",
  description:
    "The device generates an EC P-256 key pair and sends its public JWK. The answer holds the credential once: " +
    "the device then calls upload routes with `Authorization: DPoP <credential>` and a fresh `DPoP` proof " +
    "(RFC 9449, ES256, with `ath`) per request. The credential expires after 90 days without use.",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateDeviceSchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: CreatedDeviceSchema } } },
    ...problemResponses(400, 401, 403, 409, 415),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/me/devices",
  operationId: "listDevices",
  tags: ["Devices"],
  summary: "The signed-in user's device credentials, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "Devices", content: { "application/json": { schema: DevicePageSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

const revoke = createRoute({
  method: "delete",
  path: "/v1/me/devices/{id}",
  operationId: "revokeDevice",
  tags: ["Devices"],
  summary: "Revoke a device credential",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  request: { params: IdParamSchema("dev") },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 403, 404) },
});

export function registerDeviceRoutes(app: App): void {
  app.openapi(create, async (c) => {
    const created = await createDevice({ db: getDb(c.env.DB) }, authOf(c).userId, c.req.valid("json"), auditContext(c));
    return c.json(created, 201);
  });

  app.openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await listDevices({ db: getDb(c.env.DB), env: c.env }, authOf(c).userId, { limit, cursor });
    return c.json(page, 200);
  });

  app.openapi(revoke, async (c) => {
    await revokeDevice({ db: getDb(c.env.DB) }, authOf(c).userId, c.req.valid("param").id, auditContext(c));
    return c.body(null, 204);
  });
}
