/**
 * Export requests and their records in D1 (DESIGN §8): a person takes everything out. Every read
 * filters by the owning user, so another person's export id is simply not found (404).
 *
 * Exports are not refused for lack of consent to the terms: the right of access to one's own data
 * (HIPAA 45 CFR 164.524, GDPR Art. 15) does not depend on accepting them. The archive carries the
 * consent history instead (docs/exports.md).
 */
import { and, eq, sql } from "drizzle-orm";
import type { Config } from "../config/config";
import type { Db } from "../db/client";
import { newId } from "../db/ids";
import { type ExportRow, exports } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { errorName, log } from "../observability/log";
import { afterCursor, decodeKeyset, newestFirst, pageOf } from "../pagination/keyset";
import type { ExportBuildMessage } from "./schema";
import { downloadPath } from "./signing";

/** Archives are kept this long, then deleted with their record (./retention.ts). */
export const EXPORT_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** Building an archive reads a person's whole store: a few a day is plenty for anyone. */
export const EXPORTS_PER_DAY = 5;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ExportContext {
  db: Db;
  env: Env;
  config: Config;
  /** The signed-in person, whose exports these are. */
  userId: string;
  /** Scheme and host the download link is served from (the request's own origin). */
  origin: string;
  requestId: string | null;
}

export interface ExportReceipt {
  id: string;
  status: "queued";
  createdAt: string;
  expiresAt: string;
  statusUrl: string;
}

export interface ExportView {
  id: string;
  status: ExportRow["status"];
  byteSize: number | null;
  downloadUrl: string | null;
  createdAt: string;
  completedAt: string | null;
  expiresAt: string;
  error?: string;
}

export function statusUrl(id: string): string {
  return `/v1/me/exports/${id}`;
}

/**
 * Queues a new export. One statement decides atomically, so two concurrent requests cannot both
 * start one: the row is inserted only if none of this user's exports is queued or running and
 * fewer than five were requested in the last 24 hours.
 */
export async function requestExport(ctx: ExportContext, now = Date.now()): Promise<ExportReceipt> {
  const id = newId("exp");
  const createdAt = now;
  const expiresAt = now + EXPORT_TTL_MS;
  for (let attempt = 0; attempt < 2; attempt++) {
    const inserted = await ctx.db.run(sql`
      INSERT INTO exports (id, user_id, status, created_at, expires_at)
      SELECT ${id}, ${ctx.userId}, 'queued', ${createdAt}, ${expiresAt}
      WHERE NOT EXISTS (SELECT 1 FROM exports WHERE user_id = ${ctx.userId} AND status IN ('queued', 'running'))
        AND (SELECT COUNT(*) FROM exports WHERE user_id = ${ctx.userId} AND created_at > ${now - DAY_MS}) < ${EXPORTS_PER_DAY}`);
    if (inserted.meta.changes === 1) {
      await enqueueBuild(ctx, { type: "export.build", exportId: id, userId: ctx.userId, requestId: ctx.requestId });
      return {
        id,
        status: "queued",
        createdAt: new Date(createdAt).toISOString(),
        expiresAt: new Date(expiresAt).toISOString(),
        statusUrl: statusUrl(id),
      };
    }
    await explainRefusal(ctx, now);
  }
  throw new DomainError("CONFLICT", "Another export request is being processed; try again.");
}

/** Throws why no export could be queued; returns when neither reason holds any more (a race). */
async function explainRefusal(ctx: ExportContext, now: number): Promise<void> {
  const [pending] = await ctx.db
    .select({ id: exports.id })
    .from(exports)
    .where(and(eq(exports.userId, ctx.userId), sql`${exports.status} IN ('queued', 'running')`))
    .limit(1);
  if (pending !== undefined) {
    throw new DomainError("CONFLICT", "An export of your data is already being built; wait for it to finish.", {
      extensions: { exportId: pending.id, statusUrl: statusUrl(pending.id) },
    });
  }
  const [window] = await ctx.db
    .select({ count: sql<number>`COUNT(*)`, oldest: sql<number>`MIN(${exports.createdAt})` })
    .from(exports)
    .where(and(eq(exports.userId, ctx.userId), sql`${exports.createdAt} > ${now - DAY_MS}`));
  if (window !== undefined && window.count >= EXPORTS_PER_DAY) {
    throw new DomainError(
      "RATE_LIMITED",
      `At most ${EXPORTS_PER_DAY} exports a day; the oldest of them leaves the window later.`,
      {
        retryAfterSeconds: Math.max(1, Math.ceil((window.oldest + DAY_MS - now) / 1000)),
      },
    );
  }
}

async function enqueueBuild(ctx: ExportContext, message: ExportBuildMessage): Promise<void> {
  try {
    await ctx.env.SYNC.send(message, { contentType: "json" });
  } catch (error) {
    log("error", "export queue unavailable", { requestId: ctx.requestId, exportId: message.exportId, error: errorName(error) });
    await markExportFailed(ctx.db, message.exportId, "The export could not be queued; request it again.");
    throw new DomainError("SERVICE_UNAVAILABLE", "The export could not be queued; request it again shortly.", {
      retryAfterSeconds: 5,
      cause: error,
    });
  }
}

/** Marks an export failed with a plain reason; a completed export stays completed. */
export async function markExportFailed(db: Db, id: string, message: string, now = Date.now()): Promise<void> {
  await db
    .update(exports)
    .set({ status: "failed", errorMessage: message, completedAt: new Date(now) })
    .where(and(eq(exports.id, id), sql`${exports.status} IN ('queued', 'running')`));
}

export async function getExport(ctx: ExportContext, id: string, now = Date.now()): Promise<ExportView> {
  const [row] = await ctx.db
    .select()
    .from(exports)
    .where(and(eq(exports.id, id), eq(exports.userId, ctx.userId)))
    .limit(1);
  if (row === undefined) throw new DomainError("NOT_FOUND", "No such export.");
  return exportView(ctx, row, now);
}

export async function listExports(
  ctx: ExportContext,
  page: { limit: number; cursor?: string | undefined },
  now = Date.now(),
): Promise<{ items: ExportView[]; nextCursor: string | null }> {
  const binding = { list: "exports" };
  const after = decodeKeyset(page.cursor, binding);
  const rows = await ctx.db
    .select()
    .from(exports)
    .where(and(eq(exports.userId, ctx.userId), afterCursor(exports, after)))
    .orderBy(...newestFirst(exports))
    .limit(page.limit + 1);
  const { rows: items, nextCursor } = pageOf(rows, page.limit, binding);
  return { items: await Promise.all(items.map((row) => exportView(ctx, row, now))), nextCursor };
}

/** A download link only for a completed export that has not expired, freshly signed on every read. */
async function exportView(ctx: ExportContext, row: ExportRow, now: number): Promise<ExportView> {
  const downloadable = row.status === "completed" && row.expiresAt.getTime() > now;
  const view: ExportView = {
    id: row.id,
    status: row.status,
    byteSize: row.byteSize,
    downloadUrl: downloadable ? new URL(await downloadPath(ctx.config, row.id, row.userId, now), ctx.origin).toString() : null,
    createdAt: row.createdAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    expiresAt: row.expiresAt.toISOString(),
  };
  if (row.status === "failed") view.error = row.errorMessage ?? "The export failed; request a new one.";
  return view;
}
