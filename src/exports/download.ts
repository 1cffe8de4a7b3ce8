/**
 * Serving an archive through its signed link (./signing.ts). The link is the only credential, so
 * every refusal looks the same (404): an unknown export, another export's signature, a forged or
 * expired link, an export not completed or past its 7 days, an account being deleted. A caller
 * learns nothing about which.
 * Each download is recorded as `export.download` in the person's own audit chain.
 */
import { eq } from "drizzle-orm";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { AuditContext } from "../audit/event";
import type { Config } from "../config/config";
import { getDb } from "../db/client";
import { exports, users } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { DOWNLOAD_URL_TTL_SECONDS, verifyDownload } from "./signing";

export interface ArchiveDownload {
  /** null for a HEAD request: the link was checked, nothing was sent and nothing recorded. */
  body: ReadableStream | null;
  byteSize: number;
  fileName: string;
}

const refused = () => new DomainError("NOT_FOUND", "No export at this link, or the link has expired.");

export async function openDownload(
  ctx: { env: Env; config: Config; audit: AuditContext },
  link: { exportId: string; expires: number; signature: string },
  now = Date.now(),
  options: { headOnly?: boolean } = {},
): Promise<ArchiveDownload> {
  const nowSeconds = Math.floor(now / 1000);
  // A link names its expiry; one reaching further than a fresh link can is not one Pulse signed.
  const expiryPlausible = link.expires >= nowSeconds && link.expires <= nowSeconds + DOWNLOAD_URL_TTL_SECONDS + 60;
  const [row] = await getDb(ctx.env.DB)
    .select({ export: exports, role: users.role, deletedAt: users.deletedAt })
    .from(exports)
    .innerJoin(users, eq(users.id, exports.userId))
    .where(eq(exports.id, link.exportId))
    .limit(1);
  // Verified even when the answer is already no, so timing does not tell which check failed.
  const signed = await verifyDownload(ctx.config, { ...link, userId: row?.export.userId ?? "usr_unknown" });
  if (
    row === undefined ||
    !signed ||
    !expiryPlausible ||
    row.export.status !== "completed" ||
    row.export.r2Key === null ||
    // Once the owner confirmed their account's deletion nothing of it is served, though the job
    // removing the archive may not have run yet.
    row.deletedAt !== null ||
    row.export.expiresAt.getTime() <= now
  ) {
    throw refused();
  }
  const fileName = `pulse-export-${row.export.createdAt.toISOString().slice(0, 10)}.zip`;
  if (options.headOnly) {
    // A HEAD sends no data, so it is not a download and leaves no event in the access log.
    const head = await ctx.env.LAKE.head(row.export.r2Key);
    if (head === null) throw refused();
    return { body: null, byteSize: head.size, fileName };
  }
  const object = await ctx.env.LAKE.get(row.export.r2Key);
  if (object === null) throw refused();
  const userId = row.export.userId;
  try {
    await healthStoreFor(ctx.env.HEALTH_STORE, userId).appendAuditEvent(
      { action: "export.download", resource: `export:${link.exportId}`, result: "success" },
      // The link's holder acts for the person it was issued to; the request and IP say from where.
      { ...ctx.audit, actor: userId, role: row.role, subject: userId },
    );
  } catch (error) {
    // No download goes unrecorded.
    await object.body.cancel();
    throw error;
  }
  return {
    body: object.body,
    byteSize: object.size,
    fileName,
  };
}
