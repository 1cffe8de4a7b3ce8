import { z } from "@hono/zod-openapi";
import { CONSENT_DOCUMENTS } from "../db/schema";

/** The consent routes' HTTP shapes (docs/consent.md). */
const DocumentSchema = z.enum(CONSENT_DOCUMENTS).openapi({ description: "`terms` (of service) or `privacy` (notice)" });

export const ConsentRecordSchema = z
  .object({
    id: z.string().openapi({ example: "cns_abcdefghijklmnopqrstuvwxyz" }),
    document: DocumentSchema,
    version: z.string().openapi({ example: "2026-12-01" }),
    acceptedAt: z.string().openapi({ format: "date-time" }),
    withdrawnAt: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("ConsentRecord");

const CurrentDocumentSchema = z.object({
  version: z.string().openapi({ example: "2026-12-01" }),
  url: z.string().openapi({ description: "Where the document is served (HTML)", example: "/legal/terms" }),
});

export const ConsentStatusSchema = z
  .object({
    current: z.object({ terms: CurrentDocumentSchema, privacy: CurrentDocumentSchema }),
    accepted: z.boolean().openapi({ description: "Both current versions accepted and neither withdrawn: sharing is allowed" }),
    records: z.array(ConsentRecordSchema).openapi({ description: "Acceptances, newest first (at most 100)" }),
    moreRecords: z.boolean().openapi({ description: "Older records exist beyond those listed" }),
  })
  .openapi("ConsentStatus");

export const AcceptConsentSchema = z
  .strictObject({
    document: DocumentSchema,
    version: z.string().min(1).max(32).openapi({ description: "Must be the current version of the document" }),
  })
  .openapi("AcceptConsent");

export const WithdrawConsentSchema = z.strictObject({ document: DocumentSchema }).openapi("WithdrawConsent");

export const WithdrawResultSchema = z
  .object({
    withdrawn: z
      .array(ConsentRecordSchema)
      .openapi({ description: "The records this request withdrew (empty if none was active)" }),
    status: ConsentStatusSchema,
  })
  .openapi("ConsentWithdrawal");
