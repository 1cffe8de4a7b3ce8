/** `/v1/me/passkeys`: the signed-in user's passkeys. Adding one is also open to recovery sessions. */
import { createRoute } from "@hono/zod-openapi";
import { problemResponses } from "../../http/openapi";
import type { App } from "../../http/types";
import { authOf, requireAuth } from "../middleware";
import { finishAddPasskey, startAddPasskey } from "./add-passkey";
import { ceremonyContext } from "./context";
import { listPasskeys, removePasskey, renamePasskey } from "./management";
import {
  PasskeyIdParamSchema,
  PasskeyListSchema,
  PasskeySchema,
  RegisterVerifyRequestSchema,
  RegistrationCeremonySchema,
  RenamePasskeyRequestSchema,
} from "./schema";

const security = [{ bearerAuth: [] }];
const userOrRecovery = requireAuth({ scope: ["user", "recovery"] });

const list = createRoute({
  method: "get",
  path: "/v1/me/passkeys",
  operationId: "listPasskeys",
  tags: ["Passkeys"],
  summary: "List your passkeys",
  security,
  middleware: [requireAuth()] as const,
  responses: {
    200: {
      description: "Your passkeys, oldest first (at most 20: never paged)",
      content: { "application/json": { schema: PasskeyListSchema } },
    },
    ...problemResponses(401, 403),
  },
});

const rename = createRoute({
  method: "patch",
  path: "/v1/me/passkeys/{id}",
  operationId: "renamePasskey",
  tags: ["Passkeys"],
  summary: "Rename one of your passkeys",
  security,
  middleware: [requireAuth()] as const,
  request: {
    params: PasskeyIdParamSchema,
    body: { required: true, content: { "application/json": { schema: RenamePasskeyRequestSchema } } },
  },
  responses: {
    200: { description: "The renamed passkey", content: { "application/json": { schema: PasskeySchema } } },
    ...problemResponses(400, 401, 403, 404, 415),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/v1/me/passkeys/{id}",
  operationId: "deletePasskey",
  tags: ["Passkeys"],
  summary: "Remove one of your passkeys (never the last one while no unused recovery code remains)",
  security,
  middleware: [requireAuth()] as const,
  request: { params: PasskeyIdParamSchema },
  responses: { 204: { description: "Removed" }, ...problemResponses(400, 401, 403, 404, 409) },
});

const addOptions = createRoute({
  method: "post",
  path: "/v1/me/passkeys/options",
  operationId: "startAddPasskey",
  tags: ["Passkeys"],
  summary: "Start adding a passkey (also allowed for a recovery session)",
  security,
  middleware: [userOrRecovery] as const,
  responses: {
    200: {
      description: "Creation options for navigator.credentials.create()",
      content: { "application/json": { schema: RegistrationCeremonySchema } },
    },
    ...problemResponses(401, 403, 409),
  },
});

const addVerify = createRoute({
  method: "post",
  path: "/v1/me/passkeys/verify",
  operationId: "finishAddPasskey",
  tags: ["Passkeys"],
  summary: "Finish adding a passkey; a recovery session ends once it has added one",
  security,
  middleware: [userOrRecovery] as const,
  request: { body: { required: true, content: { "application/json": { schema: RegisterVerifyRequestSchema } } } },
  responses: {
    201: { description: "The new passkey", content: { "application/json": { schema: PasskeySchema } } },
    ...problemResponses(400, 401, 403, 409, 415),
  },
});

export function registerPasskeyManagementRoutes(app: App): void {
  app.openapi(list, async (c) => {
    const items = await listPasskeys(ceremonyContext(c).db, authOf(c).userId);
    return c.json({ items, nextCursor: null }, 200);
  });

  app.openapi(rename, async (c) => {
    const ctx = ceremonyContext(c);
    const view = await renamePasskey(ctx.db, authOf(c).userId, c.req.valid("param").id, c.req.valid("json").name, ctx.audit);
    return c.json(view, 200);
  });

  app.openapi(remove, async (c) => {
    const ctx = ceremonyContext(c);
    await removePasskey(ctx.db, authOf(c).userId, c.req.valid("param").id, ctx.audit);
    return c.body(null, 204);
  });

  app.openapi(addOptions, async (c) => c.json(await startAddPasskey(ceremonyContext(c), authOf(c)), 200));

  app.openapi(addVerify, async (c) => c.json(await finishAddPasskey(ceremonyContext(c), authOf(c), c.req.valid("json")), 201));
}
