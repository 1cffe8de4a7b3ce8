/**
 * The `export.build` job (SYNC queue): one person's whole account as a ZIP archive in R2 at
 * `exports/{userId}/{exportId}.zip`, streamed part by part (./r2-sink.ts) so the isolate never
 * holds it. Layout and formats: ./archive-readme.ts and docs/exports.md.
 *
 * A retried message starts over: whatever a failed attempt sent is aborted, and the archive is
 * written again from the first byte (an archive is minutes of work at most, and a half-written
 * ZIP is of no use to resume). When retries run out, the dead-letter handler marks it failed.
 */
import { and, eq, sql } from "drizzle-orm";
import type { HealthStoreClient } from "../../durable-objects/health-store/client";
import { healthStoreFor } from "../../durable-objects/health-store/client";
import type { ExportPageQuery } from "../../durable-objects/health-store/export";
import type { StoreAuditContext } from "../../durable-objects/health-store/schema";
import { type Db, getDb } from "../db/client";
import { type ExportRow, exports, users } from "../db/schema";
import { errorName, log } from "../observability/log";
import type { Job } from "../queues/consumer";
import { accountSnapshot } from "./account";
import { ArchiveWriter } from "./archive";
import { type ArchiveSection, README_TEXT } from "./archive-readme";
import { markExportFailed } from "./exports";
import { writeFhirBundle } from "./fhir-bundle";
import { r2ArchiveSink } from "./r2-sink";
import { type ExportBuildMessage, exportBuildMessageSchema } from "./schema";

export const EXPORT_FORMAT_VERSION = 1;
/** Rows per store read: ~1 MB of NDJSON, a few hundred KB once deflated. */
const PAGE_ROWS = 5_000;

export function exportKey(userId: string, exportId: string): string {
  return `exports/${userId}/${exportId}.zip`;
}

/** The FHIR R4 collection Bundle of DESIGN §8, `fhir/bundle.json` (./fhir-bundle.ts). */
export const fhirBundleSection: ArchiveSection | null = writeFhirBundle;

export const exportBuildJob: Job<ExportBuildMessage> = {
  schema: exportBuildMessageSchema,
  async run(message, context) {
    await buildExport(context.env, message);
  },
};

export async function buildExport(env: Env, message: ExportBuildMessage, now = Date.now()): Promise<void> {
  const db = getDb(env.DB);
  const [found] = await db
    .select({ export: exports, user: users })
    .from(exports)
    .innerJoin(users, eq(users.id, exports.userId))
    .where(and(eq(exports.id, message.exportId), eq(exports.userId, message.userId)))
    .limit(1);
  // Purged, deleted with its account, or already settled by an earlier delivery: nothing to do.
  if (found === undefined || found.export.status === "completed" || found.export.status === "failed") return;
  const { user } = found;
  if (user.deletedAt !== null) {
    // The account's deletion was confirmed since the request: reading the store now would write
    // its audit events back, and the archive would be one more copy for the deletion to chase.
    await markExportFailed(db, message.exportId, "The account is being deleted.");
    return;
  }

  await db
    .update(exports)
    .set({ status: "running", startedAt: new Date(now) })
    .where(and(eq(exports.id, message.exportId), sql`${exports.status} IN ('queued', 'running')`));

  const key = exportKey(user.id, message.exportId);
  const sink = r2ArchiveSink(env.LAKE, key, { userId: user.id, exportId: message.exportId });
  const started = Date.now();
  try {
    const archive = new ArchiveWriter(sink, found.export.createdAt);
    const audit: StoreAuditContext = {
      actor: user.id,
      role: user.role,
      reason: null,
      requestId: message.requestId,
      ip: null,
      subject: user.id,
    };
    await writeArchive({ env, db, store: healthStoreFor(env.HEALTH_STORE, user.id), audit, row: found.export, user }, archive);
    await archive.end();
    const byteSize = await sink.close();
    const recorded = await db
      .update(exports)
      .set({ status: "completed", r2Key: key, byteSize, completedAt: new Date(), errorMessage: null })
      .where(and(eq(exports.id, message.exportId), eq(exports.status, "running")))
      .returning({ id: exports.id });
    if (recorded.length === 0) {
      // The record went meanwhile (the account's deletion, or the purge) or was settled as failed:
      // nothing would ever point at this archive or delete it, so it goes now.
      await env.LAKE.delete(key);
      log("warn", "export built for a record no longer running; archive removed", { exportId: message.exportId });
      return;
    }
    log("info", "export built", { exportId: message.exportId, bytes: byteSize, durationMs: Date.now() - started });
  } catch (error) {
    await sink.abort();
    log("warn", "export build failed", { exportId: message.exportId, error: errorName(error) });
    throw error;
  }
}

export interface BuildContext {
  env: Env;
  db: Db;
  store: HealthStoreClient;
  audit: StoreAuditContext;
  row: ExportRow;
  user: typeof users.$inferSelect;
}

async function writeArchive(ctx: BuildContext, archive: ArchiveWriter): Promise<void> {
  const exportId = ctx.row.id;
  await archive.addFile("README.txt", [README_TEXT], { count: null });

  const { metrics } = await ctx.store.exportInventory(exportId, ctx.audit);
  for (const metric of metrics) {
    await archive.addCountedFile(`observations/${metric}.ndjson`, pages(ctx, { exportId, kind: "observations", metric }));
  }
  await archive.addCountedFile("sleep.ndjson", pages(ctx, { exportId, kind: "sleep" }));
  await archive.addCountedFile("workouts.ndjson", pages(ctx, { exportId, kind: "workouts" }));
  await addUploads(ctx, archive);
  await archive.addFile("account.json", [JSON.stringify(await accountSnapshot(ctx.db, ctx.user), null, 2)], { count: 1 });
  if (fhirBundleSection !== null) await fhirBundleSection(ctx, archive);
  // Last, so it lists this export's own reads of the files above.
  await archive.addCountedFile("access-log.ndjson", pages(ctx, { exportId, kind: "access-log" }));

  const manifest = {
    formatVersion: EXPORT_FORMAT_VERSION,
    exportId,
    userId: ctx.user.id,
    createdAt: ctx.row.createdAt.toISOString(),
    builtAt: new Date().toISOString(),
    files: archive.files.map((file) => ({ path: file.path, count: file.count, bytes: file.bytes })),
  };
  await archive.addFile("manifest.json", [JSON.stringify(manifest, null, 2)], { count: 1 });
}

async function* pages(
  ctx: BuildContext,
  query: Omit<ExportPageQuery, "cursor" | "limit">,
): AsyncGenerator<{ text: string; count: number }> {
  let cursor: string | undefined;
  do {
    const page = await ctx.store.exportPage(
      { ...query, limit: PAGE_ROWS, ...(cursor === undefined ? {} : { cursor }) },
      ctx.audit,
    );
    yield { text: page.lines, count: page.count };
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

/** The original files as uploaded, byte for byte, from `raw/{userId}/…`. */
async function addUploads(ctx: BuildContext, archive: ArchiveWriter): Promise<void> {
  const prefix = `raw/${ctx.user.id}/`;
  let cursor: string | undefined;
  do {
    const listing = await ctx.env.LAKE.list({ prefix, ...(cursor === undefined ? {} : { cursor }) });
    for (const object of listing.objects) {
      const body = await ctx.env.LAKE.get(object.key);
      // Removed (retention) between the listing and now: it is simply no longer part of the account.
      if (body === null) continue;
      await archive.addFile(`uploads/${object.key.slice(prefix.length)}`, streamChunks(body.body), { store: true });
    }
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor !== undefined);
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Dead-letter handler: retries are exhausted, so the person sees a failed export and may ask again. */
export async function failDeadLetteredExport(env: Env, body: unknown): Promise<void> {
  const parsed = exportBuildMessageSchema.safeParse(body);
  if (!parsed.success) return;
  await markExportFailed(
    getDb(env.DB),
    parsed.data.exportId,
    "The archive could not be built after several attempts. Request a new export; if it fails again, contact support.",
  );
}
