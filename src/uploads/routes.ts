import { createRoute } from "@hono/zod-openapi";
import { authOf, requireAuth } from "../auth/middleware";
import { getDb } from "../db/client";
import { auditContext } from "../http/audit-context";
import { checkBody } from "../http/middleware/body";
import { problemResponses } from "../http/openapi";
import { IdParamSchema, PageQuerySchema } from "../http/schemas";
import type { App } from "../http/types";
import { rateLimit } from "../rate-limit/middleware";
import { createUpload } from "./create-upload";
import { requestFile } from "./request-file";
import { UploadPageSchema, UploadReceiptSchema, UploadSchema } from "./schema";
import { getUpload, listUploads } from "./uploads";

/** DESIGN §6: 10 uploads a minute per user, whichever credential sends them. */
const uploadQuota = rateLimit({
  name: "uploads",
  windowSeconds: 60,
  limit: () => 10,
  key: (c) => c.get("auth")?.userId,
  // Each upload costs R2 writes and an ingest job: an unlimited burst is worse than a retry.
  onLimiterError: "closed",
});

/** A device's DPoP credential or a user's access token (typed: a literal of mixed keys defeats route inference). */
const DEVICE_OR_USER: Record<string, string[]>[] = [{ dpop: [] }, { bearerAuth: [] }];

const binary = { type: "string", format: "binary" } as const;

const create = createRoute({
  method: "post",
  path: "/v1/uploads",
  operationId: "createUpload",
  tags: ["Uploads"],
  summary: "Upload a Health Connect export (Avro object container file)",
  description:
    "The body is the file itself (`application/avro` or `application/octet-stream`; an optional " +
    '`Content-Disposition: attachment; filename="…"` names it) or a `multipart/form-data` body with the ' +
    "file in the field `file`. Up to 50 MiB; the header and first block are checked before the answer, " +
    "every block's framing is checked, and the records are ingested by a queue job: poll `statusUrl`. " +
    "Sending the same file again returns its first upload (200) and ingests nothing twice. " +
    "Callable with a session or a device credential (`uploads:write`); 10 uploads a minute per user.",
  security: DEVICE_OR_USER,
  // Authentication first, then the body's media type and declared size, then the quota (DESIGN §3).
  middleware: [requireAuth({ scope: "uploads:write" }), checkBody(), uploadQuota] as const,
  request: {
    body: {
      required: true,
      content: {
        "application/avro": { schema: binary },
        "application/octet-stream": { schema: binary },
        "multipart/form-data": { schema: { type: "object", properties: { file: binary }, required: ["file"] } },
      },
    },
  },
  responses: {
    200: {
      description: "This user already uploaded the same file: that upload, in its current state",
      content: { "application/json": { schema: UploadReceiptSchema } },
    },
    202: { description: "Stored and queued for ingestion", content: { "application/json": { schema: UploadReceiptSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 422, 429, 503),
  },
});

// Devices may read the status of an upload by id (they poll the statusUrl they were given), but
// not list the account's uploads: that needs the full account.
const read = createRoute({
  method: "get",
  path: "/v1/uploads/{id}",
  operationId: "getUpload",
  tags: ["Uploads"],
  summary: "An upload's status and counts",
  security: DEVICE_OR_USER,
  middleware: [requireAuth({ scope: ["user", "uploads:write"] })] as const,
  request: { params: IdParamSchema("upl") },
  responses: {
    200: { description: "The upload", content: { "application/json": { schema: UploadSchema } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/uploads",
  operationId: "listUploads",
  tags: ["Uploads"],
  summary: "The signed-in user's uploads, newest first",
  security: [{ bearerAuth: [] }],
  middleware: [requireAuth()] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "Uploads", content: { "application/json": { schema: UploadPageSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

export function registerUploadRoutes(app: App): void {
  app.openapi(create, async (c) => {
    const auth = authOf(c);
    const file = await requestFile(c.req.raw);
    const { receipt, created } = await createUpload(
      { db: getDb(c.env.DB), env: c.env },
      { userId: auth.userId, deviceId: auth.deviceId ?? null, ...file, audit: auditContext(c) },
    );
    c.header("Location", receipt.statusUrl);
    if (created) return c.json(receipt, 202);
    return c.json(receipt, 200);
  });

  app.openapi(read, async (c) => {
    const auth = authOf(c);
    const upload = await getUpload({ db: getDb(c.env.DB), env: c.env }, auth.userId, c.req.valid("param").id, auth.deviceId);
    return c.json(upload, 200);
  });

  app.openapi(list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await listUploads({ db: getDb(c.env.DB), env: c.env }, authOf(c).userId, { limit, cursor });
    return c.json(page, 200);
  });
}
