import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { authOf, requireAuth } from "../auth/middleware";
import { DomainError } from "../errors/domain-error";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import type { App, AppEnv } from "../http/types";
import {
  MAX_VAULT_BLOB_BYTES,
  VAULT_QUOTA,
  VaultBlobSchema,
  VaultIdParamSchema,
  VaultListQuerySchema,
  VaultPageSchema,
  VaultWriteSchema,
} from "./schema";
import { deleteBlob, getBlob, listBlobs, putBlob, type VaultContext } from "./vault";

/**
 * The client-side vault (DESIGN §9, docs/vault.md): opaque blobs the client encrypted with a key
 * the server never sees, stored in the user's HealthStore. `requireAuth()` asks for the full `user`
 * scope, so device credentials cannot reach it.
 */
const common = { tags: ["Vault"], security: [{ bearerAuth: [] }] };
const errors = problemResponses(400, 401, 403, 404, 429);

/** 413 above the vault's own limit, measured on the bytes received, before the body is validated. */
const vaultBodyLimit = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const bytes = new TextEncoder().encode(await c.req.text()).byteLength;
    if (bytes > MAX_VAULT_BLOB_BYTES) {
      throw new DomainError("PAYLOAD_TOO_LARGE", `A vault blob may be at most ${MAX_VAULT_BLOB_BYTES} bytes.`);
    }
    await next();
  });

const put = createRoute({
  ...common,
  middleware: [requireAuth(), vaultBodyLimit()] as const,
  method: "put",
  path: "/v1/vault/{id}",
  operationId: "putVaultBlob",
  summary: "Store an encrypted blob under a client-chosen id (created or replaced)",
  description:
    `At most ${MAX_VAULT_BLOB_BYTES} bytes of JSON a blob. Each user's vault holds at most ` +
    `${VAULT_QUOTA.maxBlobs} blobs (409 CONFLICT for one more; replacing an id is allowed) and ` +
    `${VAULT_QUOTA.maxTotalBytes} bytes in all (413 PAYLOAD_TOO_LARGE; a replacement counts its size difference).`,
  request: {
    params: VaultIdParamSchema,
    body: { required: true, content: { "application/json": { schema: VaultBlobSchema } } },
  },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: VaultWriteSchema } } },
    200: { description: "Replaced", content: { "application/json": { schema: VaultWriteSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 429),
  },
});

const get = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/vault/{id}",
  operationId: "getVaultBlob",
  summary: "One encrypted blob, as stored",
  request: { params: VaultIdParamSchema },
  responses: { 200: { description: "The blob", content: { "application/json": { schema: VaultBlobSchema } } }, ...errors },
});

const remove = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "delete",
  path: "/v1/vault/{id}",
  operationId: "deleteVaultBlob",
  summary: "Delete an encrypted blob",
  request: { params: VaultIdParamSchema },
  responses: { 204: { description: "Deleted" }, ...errors },
});

const list = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/vault",
  operationId: "listVaultBlobs",
  summary: "The vault's blob ids with version, size and last update, by id",
  request: { query: VaultListQuerySchema },
  responses: { 200: { description: "One page", content: { "application/json": { schema: VaultPageSchema } } }, ...errors },
});

function vaultContext(c: Context<AppEnv>): VaultContext {
  return { stores: c.env.HEALTH_STORE, userId: authOf(c).userId, audit: auditContext(c) };
}

export function registerVaultRoutes(app: App): void {
  app.openapi(list, async (c) => c.json(await listBlobs(vaultContext(c), c.req.valid("query")), 200));
  app.openapi(put, async (c) => {
    const written = await putBlob(vaultContext(c), c.req.valid("param").id, c.req.valid("json"));
    return written.created ? c.json(written, 201) : c.json(written, 200);
  });
  app.openapi(get, async (c) => c.json(await getBlob(vaultContext(c), c.req.valid("param").id), 200));
  app.openapi(remove, async (c) => {
    await deleteBlob(vaultContext(c), c.req.valid("param").id);
    return c.body(null, 204);
  });
}
