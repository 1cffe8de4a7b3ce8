import { z } from "@hono/zod-openapi";
import { EXPORT_STATUSES } from "../db/schema/exports";
import { PageQuerySchema } from "../http/schemas";

/** Shapes of the export routes (DESIGN §8), as OpenAPI components. */
const exportId = z.string().openapi({ example: "exp_abcdefghijklmnopqrstuvwxyz" });
const instant = z.string().openapi({ format: "date-time" });

export const ExportReceiptSchema = z
  .object({
    id: exportId,
    status: z.literal("queued"),
    createdAt: instant,
    expiresAt: instant.openapi({ description: "The archive and this record are deleted then (7 days after creation)" }),
    statusUrl: z.string().openapi({ example: "/v1/me/exports/exp_abcdefghijklmnopqrstuvwxyz" }),
  })
  .openapi("ExportReceipt");

export const ExportSchema = z
  .object({
    id: exportId,
    status: z.enum(EXPORT_STATUSES).openapi({ description: "queued → running → completed | failed" }),
    byteSize: z.number().int().nullable().openapi({ description: "Size of the ZIP archive once completed" }),
    downloadUrl: z.string().nullable().openapi({
      description: "Once completed: a link valid for 15 minutes that needs no token; read this record again for a fresh one",
    }),
    createdAt: instant,
    completedAt: instant.nullable(),
    expiresAt: instant,
    error: z.string().optional().openapi({ description: "Why a failed export failed, in plain words" }),
  })
  .openapi("Export");

export const ExportPageSchema = z
  .object({ items: z.array(ExportSchema), nextCursor: z.string().nullable() })
  .openapi("ExportPage");

export const ExportListQuerySchema = PageQuerySchema;

export const DownloadQuerySchema = z.strictObject({
  expires: z
    .string()
    .regex(/^\d{1,12}$/, "must be unix seconds")
    .openapi({ param: { name: "expires", in: "query" }, description: "Unix seconds; from the status route's downloadUrl" }),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, "must be a base64url HMAC")
    .openapi({ param: { name: "signature", in: "query" } }),
});

/** The SYNC queue message that builds one archive. */
export const exportBuildMessageSchema = z.strictObject({
  type: z.literal("export.build"),
  exportId: z.string().regex(/^exp_[a-z2-7]{26}$/),
  userId: z.string().min(1).max(128),
  requestId: z.string().min(1).max(128).nullable(),
});
export type ExportBuildMessage = z.infer<typeof exportBuildMessageSchema>;
