/**
 * The queue side of uploads: the `upload.ingest` message, its job (./ingest-upload.ts), and what
 * happens when the queue gives up on it. Registered in src/queues/consumer.ts.
 */
import { z } from "zod";
import { getDb } from "../db/client";
import { idPattern } from "../db/ids";
import { log } from "../observability/log";
import type { Job } from "../queues/consumer";
import type { IngestMessage } from "./create-upload";
import { ingestUpload } from "./ingest-upload";
import { findUpload, markFailed } from "./uploads";

export const ingestMessageSchema: z.ZodType<IngestMessage> = z.object({
  type: z.literal("upload.ingest"),
  uploadId: z.string().regex(idPattern("upl")),
  userId: z.string().regex(idPattern("usr")),
  requestId: z.string().max(128).nullable(),
  resume: z.number().int().min(1).max(1000).optional(),
});

export const uploadIngestJob: Job<IngestMessage> = {
  schema: ingestMessageSchema,
  async run(body, context) {
    if (body.resume !== undefined) log("info", "upload resumed", { uploadId: body.uploadId, resume: body.resume });
    await ingestUpload({ db: getDb(context.env.DB), env: context.env }, body);
  },
};

/**
 * After the last retry (DESIGN §6): the upload is marked failed with the reason, keeping the last
 * attempt's error in the message. Chunks written before stay written; re-sending the same file
 * restarts the same upload where it stopped (./resend-upload.ts).
 */
export async function failDeadLetteredUpload(env: Env, body: unknown): Promise<void> {
  const parsed = ingestMessageSchema.safeParse(body);
  if (!parsed.success) return;
  const db = getDb(env.DB);
  const upload = await findUpload(db, parsed.data.userId, parsed.data.uploadId);
  if (!upload || upload.status === "completed" || upload.status === "failed") return;
  const last = upload.errorCode === null ? "" : ` Last error: ${upload.errorCode}: ${upload.errorMessage ?? ""}`;
  await markFailed(db, upload.id, {
    code: "RETRIES_EXHAUSTED",
    message: `Ingestion failed after every retry; send the file again to retry.${last}`.slice(0, 500),
  });
  log("error", "upload dead-lettered", { uploadId: upload.id, userId: upload.userId, lastError: upload.errorCode });
}
