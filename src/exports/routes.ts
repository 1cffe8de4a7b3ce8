import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { auditContext } from "../http/audit-context";
import { problemResponses } from "../http/openapi";
import { IdParamSchema } from "../http/schemas";
import type { App, AppEnv } from "../http/types";
import { openDownload } from "./download";
import { type ExportContext, getExport, listExports, requestExport } from "./exports";
import { DownloadQuerySchema, ExportListQuerySchema, ExportPageSchema, ExportReceiptSchema, ExportSchema } from "./schema";

/**
 * A person's data export (DESIGN §8, docs/exports.md). `requireAuth()` asks for the full `user`
 * scope, so a device credential (uploads only) cannot start or read exports. The download route
 * takes no token: its signed link is the credential, so a browser can simply follow it.
 */
const common = { tags: ["Account"], security: [{ bearerAuth: [] }] };

const create = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "post",
  path: "/v1/me/exports",
  operationId: "createExport",
  summary: "Export all of your data as a ZIP archive",
  description:
    "Queues the archive (observations per metric, sleep, workouts, your original uploads, your access log, " +
    "account and consent records); poll `statusUrl` until `completed`, then follow `downloadUrl`. One export " +
    "at a time (409 CONFLICT names the one being built, `exportId`), at most 5 a day (429). Archives are " +
    "deleted 7 days after the request. No body.",
  responses: {
    202: { description: "Queued", content: { "application/json": { schema: ExportReceiptSchema } } },
    ...problemResponses(401, 403, 409, 429, 503),
  },
});

const get = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/me/exports/{id}",
  operationId: "getExport",
  summary: "One export: its status, and once completed a fresh download link (valid 15 minutes)",
  request: { params: IdParamSchema("exp") },
  responses: {
    200: { description: "The export", content: { "application/json": { schema: ExportSchema } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

const list = createRoute({
  ...common,
  middleware: [requireAuth()] as const,
  method: "get",
  path: "/v1/me/exports",
  operationId: "listExports",
  summary: "Your exports of the last 7 days, newest first",
  request: { query: ExportListQuerySchema },
  responses: {
    200: { description: "One page", content: { "application/json": { schema: ExportPageSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

const download = createRoute({
  tags: ["Account"],
  security: [],
  method: "get",
  path: "/v1/exports/{id}/download",
  operationId: "downloadExport",
  summary: "Download an export archive through its signed link",
  description:
    "The link from `GET /v1/me/exports/{id}` (`downloadUrl`) is the credential: no token needed, valid 15 " +
    "minutes. An unknown export, an expired or altered link and an expired export are all 404. Each " +
    "download is recorded in the owner's access log.",
  request: { params: IdParamSchema("exp"), query: DownloadQuerySchema },
  responses: {
    200: {
      description: "The ZIP archive",
      content: { "application/zip": { schema: z.string().openapi({ type: "string", format: "binary" }) } },
    },
    ...problemResponses(400, 404, 429),
  },
});

function exportContext(c: Context<AppEnv>): ExportContext {
  return {
    db: getDb(c.env.DB),
    env: c.env,
    config: c.var.config,
    userId: authOf(c).userId,
    origin: new URL(c.req.url).origin,
    requestId: c.get("requestId") ?? null,
  };
}

export function registerExportRoutes(app: App): void {
  app.openapi(create, async (c) => {
    const receipt = await requestExport(exportContext(c));
    c.header("Location", receipt.statusUrl);
    return c.json(receipt, 202);
  });
  app.openapi(list, async (c) => c.json(await listExports(exportContext(c), c.req.valid("query")), 200));
  app.openapi(get, async (c) => c.json(await getExport(exportContext(c), c.req.valid("param").id), 200));
  app.openapi(download, async (c) => {
    const { expires, signature } = c.req.valid("query");
    const archive = await openDownload(
      { env: c.env, config: c.var.config, audit: auditContext(c) },
      { exportId: c.req.valid("param").id, expires: Number(expires), signature },
      Date.now(),
      { headOnly: c.req.method === "HEAD" },
    );
    const headers = {
      "Content-Type": "application/zip",
      "Content-Length": String(archive.byteSize),
      "Content-Disposition": `attachment; filename="${archive.fileName}"`,
      "Cache-Control": "no-store",
    };
    return archive.body === null ? c.body(null, 200, headers) : c.body(archive.body, 200, headers);
  });
}
