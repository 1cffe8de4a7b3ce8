/**
 * Queues an upload's ingest job (DESIGN §6). If the queue refuses, the upload is failed with a
 * reason the person can act on, and re-sending the file restarts it (./resend-upload.ts).
 */
import type { Db } from "../db/client";
import type { UploadRow } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { errorName, log } from "../observability/log";
import type { IngestMessage } from "./create-upload";
import { markFailed } from "./uploads";

export function ingestMessage(row: UploadRow, requestId: string | null, resume?: number): IngestMessage {
  const message: IngestMessage = { type: "upload.ingest", uploadId: row.id, userId: row.userId, requestId };
  if (resume !== undefined) message.resume = resume;
  return message;
}

export async function enqueueIngest(
  ctx: { db: Db; env: Env },
  row: UploadRow,
  requestId: string | null,
  resume?: number,
): Promise<void> {
  try {
    await ctx.env.INGEST.send(ingestMessage(row, requestId, resume), { contentType: "json" });
  } catch (error) {
    log("error", "ingest queue unavailable", { requestId, uploadId: row.id, error: errorName(error) });
    await markFailed(ctx.db, row.id, {
      code: "QUEUE_UNAVAILABLE",
      message: "The upload could not be queued; send the file again.",
    });
    throw new DomainError("SERVICE_UNAVAILABLE", "The upload could not be queued; send the file again shortly.", {
      retryAfterSeconds: 5,
      cause: error,
    });
  }
}
