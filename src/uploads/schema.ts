import { z } from "@hono/zod-openapi";
import { UPLOAD_STATUSES } from "../db/schema/uploads";
import { RECORD_TYPES } from "../health-connect/record-types";

/** Shapes of the upload routes (DESIGN §6), as OpenAPI components. */
const uploadId = z.string().openapi({ example: "upl_abcdefghijklmnopqrstuvwxyz" });
const status = z.enum(UPLOAD_STATUSES).openapi({ description: "queued → processing → completed | failed" });
const recordType = z.enum(RECORD_TYPES).openapi({ description: "Health Connect record type, from the file's Avro schema" });
const sha256 = z.string().openapi({ description: "SHA-256 of the file, lowercase hex" });
const statusUrl = z.string().openapi({ example: "/v1/uploads/upl_abcdefghijklmnopqrstuvwxyz" });

export const UploadReceiptSchema = z
  .object({
    uploadId,
    status,
    recordType,
    recordCount: z.number().int().openapi({ description: "Records in the file (the sum of its Avro block counts)" }),
    sha256,
    statusUrl,
  })
  .openapi("UploadReceipt");

export const UploadSchema = z
  .object({
    id: uploadId,
    status,
    recordType,
    fileName: z.string().nullable(),
    byteSize: z.number().int(),
    sha256,
    recordCount: z.number().int(),
    counts: z
      .object({
        accepted: z
          .number()
          .int()
          .openapi({ description: "Observations and sessions stored (new, or a newer version of a record)" }),
        duplicate: z
          .number()
          .int()
          .openapi({ description: "Already stored at the same or a newer version (overlapping or re-sent data)" }),
        flagged: z.number().int().openapi({ description: "Stored but outside the physiological range (kept, never dropped)" }),
        rejected: z.number().int().openapi({ description: "Records that could not be mapped (missing or invalid fields)" }),
      })
      .openapi({ description: "Updated as chunks are ingested; final once status is completed" }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    statusUrl,
    createdAt: z.string().openapi({ format: "date-time" }),
    updatedAt: z.string().openapi({ format: "date-time" }),
    completedAt: z.string().nullable().openapi({ format: "date-time" }),
    originalFile: z
      .object({
        kept: z.boolean(),
        deletedAt: z.string().nullable().openapi({ format: "date-time" }),
      })
      .openapi({
        description:
          "The uploaded file itself. Deleted by the retention job once older than RAW_UPLOAD_RETENTION_DAYS " +
          "(docs/retention.md); the observations read from it stay.",
      }),
  })
  .openapi("Upload");

export const UploadPageSchema = z
  .object({ items: z.array(UploadSchema), nextCursor: z.string().nullable() })
  .openapi("UploadPage");
