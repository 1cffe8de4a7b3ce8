import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { type ChainVerification, chainAuditEvent, GENESIS_ANCHOR, verifyChain } from "../src/audit/chain";
import { AUDIT_RESULTS, type AuditEvent, auditActionSchema, type ChainedAuditEvent } from "../src/audit/event";
import type { AuditVerificationReport } from "../src/audit/seal/verify";
import { DomainError } from "../src/errors/domain-error";
import { outcomeOf, type RpcOutcome } from "../src/errors/rpc";
import {
  type AnalysisDataset,
  type AnalysisQuery,
  analysisQuerySchema,
  analysisResource,
  readAnalysisDataset,
} from "./health-store/analysis";
import { insertAuditEvent, listAccessLog, listAuditEventsInOrder, readAuditTail } from "./health-store/audit-log";
import {
  auditReadResource,
  ingestResource,
  latestResource,
  observationReadResource,
  sessionListResource,
  sourceResource,
  summaryResource,
} from "./health-store/audit-resources";
import {
  type BatchIngestResult,
  batchSpan,
  type IngestBatch,
  type IngestBatchInput,
  parseIngestBatch,
} from "./health-store/batch-schema";
import { queryBuckets } from "./health-store/buckets";
import { type DeletedSource, deleteSource, type SourceSelector, sourceSelectorSchema } from "./health-store/delete-source";
import {
  type ExportInventory,
  type ExportPage,
  type ExportPageQuery,
  exportFileName,
  exportIdSchema,
  exportInventory,
  exportPageQuerySchema,
  readExportPage,
} from "./health-store/export";
import { fastParseAll, fastParseObservation } from "./health-store/fast-parse";
import {
  type FhirItem,
  type FhirReadItem,
  type FhirRef,
  type FhirScope,
  type FhirSearchQuery,
  fhirDevicesResource,
  fhirRefSchema,
  fhirScopeSchema,
  fhirSearchQuerySchema,
  fhirSearchResource,
  listFhirDevices,
  locateFhirObservation,
  readFhirObservation,
  searchFhirObservations,
} from "./health-store/fhir";
import {
  type FhirExportPage,
  type FhirExportPageQuery,
  type FhirExportPartRef,
  type FhirExportScope,
  fhirExportPageQuerySchema,
  fhirExportPartResource,
  fhirExportPlan,
  fhirExportResource,
  fhirExportScopeSchema,
  readFhirExportPage,
} from "./health-store/fhir-export";
import { ingestObservations } from "./health-store/ingest";
import { ingestSleepSessions, ingestWorkouts } from "./health-store/ingest-sessions";
import { type LakePartition, lakePartitions } from "./health-store/lake-partitions";
import { migrateStore } from "./health-store/migrations";
import {
  claimRefreshPlan,
  markAllNarrativesStale,
  markNarrativesStale,
  type NarrativeQuery,
  type NarrativeResult,
  narrativeById,
  narrativeIdSchema,
  narrativeQuerySchema,
  narrativeResource,
  noteLatestData,
  type RefreshPlan,
  type RefreshRequest,
  readNarrative,
  refreshRequestSchema,
  refreshTargets,
  regenerate,
  rememberTimeZone,
  requestRefresh,
  storedBounds,
  storedNarrativeResource,
} from "./health-store/narratives";
import { claimOwner } from "./health-store/owner";
import { latestObservations, queryRawObservations } from "./health-store/query";
import {
  type DailySummary,
  type DailySummaryQuery,
  dailySummaryQuerySchema,
  latestBoundsSchema,
  latestMetricsSchema,
  type ObservationPage,
  type ObservationQuery,
  observationQuerySchema,
  type Period,
  type SessionListQuery,
  type SleepSession,
  sessionListQuerySchema,
  type Workout,
} from "./health-store/read-schema";
import {
  type AccessLogQuery,
  accessLogQuerySchema,
  type IngestResult,
  ingestBatchSchema,
  MAX_INGEST_BATCH,
  type Observation,
  type ObservationInput,
  type Page,
  type StoreAuditContext,
  storeAuditContextSchema,
} from "./health-store/schema";
import { SealSchedule, sealStore, verifyStore } from "./health-store/seal";
import { listSleepSessions, listWorkouts } from "./health-store/sessions-read";
import { recordSpans } from "./health-store/spans";
import { dailySummary } from "./health-store/summary";
import { TouchedSpan } from "./health-store/touched-span";
import {
  beginUploadRun,
  claimChunk,
  endAllUploads,
  endUploadRun,
  readUploadProgress,
  recordChunkProgress,
  type UploadChunk,
  type UploadProgress,
  type UploadProgressSeed,
  uploadChunkSchema,
  uploadIdSchema,
  uploadIdsSchema,
  uploadProgressSeedSchema,
} from "./health-store/upload-progress";
import { parseArgument } from "./health-store/validate";
import {
  deleteVaultBlob,
  getVaultBlob,
  listVaultBlobs,
  putVaultBlob,
  type StoredVaultBlob,
  type VaultBlobSummary,
  type VaultListQuery,
  type VaultPut,
  vaultIdSchema,
  vaultListQuerySchema,
  vaultPutSchema,
} from "./health-store/vault";

type AuditedAction = Pick<AuditEvent, "action" | "resource" | "result">;

const auditedActionSchema = z.strictObject({
  action: auditActionSchema,
  resource: z.string().min(1).max(200),
  result: z.enum(AUDIT_RESULTS),
});

const VERIFY_PAGE_SIZE = 500;
const NOTHING: IngestResult = { accepted: 0, duplicate: 0, replaced: 0 };

/**
 * One per user (`idFromName(userId)`, DESIGN §5): that user's health data and the hash-chained
 * audit of every access to it, in the object's own SQLite. The RPC methods below are the only way
 * in; the Worker calls them after authorization and passes who is acting (`StoreAuditContext`).
 *
 * Every audited operation appends its event in the same `transactionSync` as the read or write it
 * records. The event's hash needs WebCrypto, which is async and cannot run inside a synchronous
 * transaction, so audited operations run one at a time: read the tail, hash the event, then in one
 * transaction re-check the tail, do the work and insert the event.
 */
export class HealthStore extends DurableObject<Env> {
  #migrated = false;
  #queue: Promise<unknown> = Promise.resolve();
  #seals = new SealSchedule();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => this.#ensureSchema());
  }

  /**
   * Stores observations, sleep sessions and workouts idempotently, all in one transaction with one
   * `observations.write` event. An empty batch writes nothing and records nothing.
   */
  async ingestBatch(batch: IngestBatchInput, audit: StoreAuditContext): Promise<RpcOutcome<BatchIngestResult>> {
    return outcomeOf(async () => {
      const parsed = parseIngestBatch(batch);
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#ingest(parsed, context);
    });
  }

  /**
   * One chunk of an upload (./health-store/upload-progress.ts): stored as `ingestBatch` stores it,
   * and counted in the upload's progress in the same transaction, provided it is the next chunk;
   * otherwise `CONFLICT` (reason `upload.overtaken`) and nothing is written. A chunk with no
   * records (all rejected) is only counted, and records no event.
   */
  async ingestUploadChunk(
    batch: IngestBatchInput,
    chunk: UploadChunk,
    audit: StoreAuditContext,
  ): Promise<RpcOutcome<UploadProgress>> {
    return outcomeOf(async () => {
      const parsed = parseIngestBatch(batch);
      const parsedChunk = parseArgument(uploadChunkSchema, chunk, "chunk");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const sql = this.ctx.storage.sql;
      const now = Date.now();
      if (parsed.observations.length + parsed.sleepSessions.length + parsed.workouts.length === 0) {
        return this.#serially(async () => {
          this.#ensureSchema();
          return this.ctx.storage.transactionSync(() => {
            claimChunk(sql, parsedChunk);
            return recordChunkProgress(sql, parsedChunk, null, now);
          });
        });
      }
      const action = { action: "observations.write", resource: ingestResource(parsed), result: "success" } as const;
      return this.#audited(context, action, () => {
        claimChunk(sql, parsedChunk);
        return recordChunkProgress(sql, parsedChunk, this.#store(parsed, now, false), now);
      });
    });
  }

  /** An upload ingest run's start: the upload's progress, created from `seed` the first time. */
  async beginUploadRun(uploadId: string, seed: UploadProgressSeed): Promise<RpcOutcome<UploadProgress>> {
    return outcomeOf(async () => {
      const id = parseArgument(uploadIdSchema, uploadId, "uploadId");
      const parsedSeed = parseArgument(uploadProgressSeedSchema, seed, "seed");
      return this.#serially(async () => {
        this.#ensureSchema();
        return this.ctx.storage.transactionSync(() => beginUploadRun(this.ctx.storage.sql, id, parsedSeed, Date.now()));
      });
    });
  }

  /** An upload ingest run's end: its progress, and whether to queue the narrative refresh its chunks call for. */
  async endUploadRun(uploadId: string): Promise<RpcOutcome<{ progress: UploadProgress | null; narrativesRefresh: boolean }>> {
    return outcomeOf(async () => {
      const id = parseArgument(uploadIdSchema, uploadId, "uploadId");
      return this.#serially(async () => {
        this.#ensureSchema();
        return this.ctx.storage.transactionSync(() => endUploadRun(this.ctx.storage.sql, id, Date.now()));
      });
    });
  }

  /** The progress of those of the uploads named that have started (the status routes, the sweeper). */
  async uploadProgress(uploadIds: string[]): Promise<RpcOutcome<UploadProgress[]>> {
    return outcomeOf(async () => {
      const ids = parseArgument(uploadIdsSchema, uploadIds, "uploadIds");
      return this.#serially(async () => readUploadProgress(this.ctx.storage.sql, ids));
    });
  }

  /** Observations only: `ingestBatch({ observations })`, refusing an empty batch. */
  async ingest(batch: ObservationInput[], audit: StoreAuditContext): Promise<RpcOutcome<IngestResult>> {
    return outcomeOf(async () => {
      const fast = fastParseAll(batch, MAX_INGEST_BATCH, fastParseObservation);
      const observations = fast !== null && fast.length > 0 ? fast : parseArgument(ingestBatchSchema, batch, "batch");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return (await this.#ingest({ observations, sleepSessions: [], workouts: [] }, context)).observations;
    });
  }

  /**
   * Observations of [since, until): raw, one page at a time, or as hour or day buckets in the
   * given zone. Records `observations.read` with the metrics read.
   */
  async queryObservations(query: ObservationQuery, audit: StoreAuditContext): Promise<RpcOutcome<ObservationPage>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(observationQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const metrics = parsed.metrics ?? (parsed.metric === undefined ? undefined : [parsed.metric]);
      const resource = observationReadResource(parsed);
      return this.#audited(context, { action: "observations.read", resource, result: "success" }, (): ObservationPage => {
        const sql = this.ctx.storage.sql;
        const { resolution, since, until } = parsed;
        if (resolution === "raw") return { resolution, ...queryRawObservations(sql, parsed) };
        // The schema requires both, and metrics, for bucketed reads.
        if (since === undefined || until === undefined || metrics === undefined)
          throw new Error("unreachable: unbounded bucket query");
        return { resolution, ...queryBuckets(sql, { ...parsed, resolution, since, until }, [...new Set(metrics)]) };
      });
    });
  }

  /**
   * The most recent observation of each metric that has one (starting in `bounds`, when given: a
   * grant's period); records `observations.read`.
   */
  async latest(metrics: string[], audit: StoreAuditContext, bounds?: Period): Promise<RpcOutcome<Observation[]>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(latestMetricsSchema, metrics, "metrics");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const period = bounds === undefined ? undefined : parseArgument(latestBoundsSchema, bounds, "bounds");
      const resource = latestResource(parsed, period);
      return this.#audited(context, { action: "observations.read", resource, result: "success" }, () =>
        latestObservations(this.ctx.storage.sql, parsed, period),
      );
    });
  }

  /**
   * The data a confidential-AI question needs, and nothing else: the named metrics (and sleep, if
   * asked) within [since, until), as compact columns. Records `ai.query` with the categories read.
   */
  async analysisDataset(query: AnalysisQuery, audit: StoreAuditContext): Promise<RpcOutcome<AnalysisDataset>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(analysisQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const resource = analysisResource(parsed);
      return this.#audited(context, { action: "ai.query", resource, result: "success" }, () =>
        readAnalysisDataset(this.ctx.storage.sql, parsed, Date.now()),
      );
    });
  }

  /** Sleep sessions overlapping [since, until) with stages and totals; records `sleep.read`. */
  async listSleep(query: SessionListQuery, audit: StoreAuditContext): Promise<RpcOutcome<Page<SleepSession>>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(sessionListQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(
        context,
        { action: "sleep.read", resource: sessionListResource("sleep", parsed), result: "success" },
        () => listSleepSessions(this.ctx.storage.sql, parsed),
      );
    });
  }

  /** Workouts overlapping [since, until); records `workouts.read`. */
  async listWorkouts(query: SessionListQuery, audit: StoreAuditContext): Promise<RpcOutcome<Page<Workout>>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(sessionListQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(
        context,
        { action: "workouts.read", resource: sessionListResource("workouts", parsed), result: "success" },
        () => listWorkouts(this.ctx.storage.sql, parsed),
      );
    });
  }

  /**
   * One local day's summary (./health-store/summary.ts); records `summary.read`, naming the
   * categories read when the query limits them (`summary:2026-01-15:activity,vitals`).
   */
  async dailySummary(query: DailySummaryQuery, audit: StoreAuditContext): Promise<RpcOutcome<DailySummary>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(dailySummaryQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, { action: "summary.read", resource: summaryResource(parsed), result: "success" }, () =>
        dailySummary(this.ctx.storage.sql, parsed),
      );
    });
  }

  /** Stores a client-encrypted vault blob under the client's id, replacing any; records `vault.write`. */
  async putVaultBlob(
    blob: VaultPut,
    audit: StoreAuditContext,
  ): Promise<RpcOutcome<{ created: boolean; blob: VaultBlobSummary }>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(vaultPutSchema, blob, "blob");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const now = Date.now();
      return this.#audited(context, { action: "vault.write", resource: `vault:${parsed.id}`, result: "success" }, () =>
        putVaultBlob(this.ctx.storage.sql, parsed, now),
      );
    });
  }

  /** One vault blob as stored; `NOT_FOUND` (and no event) when there is none. Records `vault.read`. */
  async getVaultBlob(id: string, audit: StoreAuditContext): Promise<RpcOutcome<StoredVaultBlob>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(vaultIdSchema, id, "id");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, { action: "vault.read", resource: `vault:${parsed}`, result: "success" }, () =>
        getVaultBlob(this.ctx.storage.sql, parsed),
      );
    });
  }

  /** Deletes one vault blob; `NOT_FOUND` (and no event) when there is none. Records `vault.delete`. */
  async deleteVaultBlob(id: string, audit: StoreAuditContext): Promise<RpcOutcome<void>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(vaultIdSchema, id, "id");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, { action: "vault.delete", resource: `vault:${parsed}`, result: "success" }, () =>
        deleteVaultBlob(this.ctx.storage.sql, parsed),
      );
    });
  }

  /** The vault's ids with version, size and last update (never the blobs), by id; records `vault.read`. */
  async listVaultBlobs(query: VaultListQuery, audit: StoreAuditContext): Promise<RpcOutcome<Page<VaultBlobSummary>>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(vaultListQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, { action: "vault.read", resource: "vault", result: "success" }, () =>
        listVaultBlobs(this.ctx.storage.sql, parsed),
      );
    });
  }

  /**
   * Deletes everything one source wrote (./health-store/delete-source.ts), keeping the rollups
   * exact; records `observations.delete` with the source, even when it had nothing stored.
   */
  async deleteSource(source: SourceSelector, audit: StoreAuditContext): Promise<RpcOutcome<DeletedSource>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(sourceSelectorSchema, source, "source");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const resource = sourceResource(parsed);
      return this.#audited(context, { action: "observations.delete", resource, result: "success" }, () => {
        const deleted = deleteSource(this.ctx.storage.sql, parsed);
        // What a source held can be anywhere in time: every stored narrative may have read it.
        if (deleted.observations + deleted.sleepSessions + deleted.workouts > 0) markAllNarrativesStale(this.ctx.storage.sql);
        return deleted;
      });
    });
  }

  /** Records an event with no data access of its own, e.g. a grantee's read that was `denied`. */
  async appendAuditEvent(event: AuditedAction, audit: StoreAuditContext): Promise<RpcOutcome<ChainedAuditEvent>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(auditedActionSchema, event, "event");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, parsed, (recorded) => recorded);
    });
  }

  /** Every recorded access, newest first (what `GET /v1/me/access-log` shows). */
  async accessLog(query: AccessLogQuery = {}): Promise<RpcOutcome<Page<ChainedAuditEvent>>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(accessLogQuerySchema, query, "query");
      return this.#serially(async () => {
        this.#ensureSchema();
        return listAccessLog(this.ctx.storage.sql, parsed);
      });
    });
  }

  /** Recomputes the whole chain from genesis and reports the first event that does not verify. */
  async verifyAudit(): Promise<RpcOutcome<ChainVerification>> {
    return outcomeOf(async () => {
      return this.#serially(async () => {
        this.#ensureSchema();
        let head = GENESIS_ANCHOR;
        let count = 0;
        for (;;) {
          const page = listAuditEventsInOrder(this.ctx.storage.sql, { afterSeq: head.seq, limit: VERIFY_PAGE_SIZE });
          const result = await verifyChain(page, head);
          count += result.count;
          if (!result.ok || page.length < VERIFY_PAGE_SIZE) return { ...result, count };
          head = result.head;
        }
      });
    });
  }

  /**
   * Erases everything this store holds, its audit chain included (DESIGN §8: deleting a user is
   * deleting their HealthStore's storage). The caller records the deletion in the D1 chain.
   */
  async deleteAll(): Promise<RpcOutcome<void>> {
    return outcomeOf(async () => {
      return this.#serially(async () => {
        // An alarm is storage too; deleteAll() leaves it on older compatibility dates.
        await this.ctx.storage.deleteAlarm();
        await this.ctx.storage.deleteAll();
        this.#migrated = false;
        this.#seals.reset(null);
      });
    });
  }

  /**
   * The access log as `accessLog` reads it, for someone other than the person (an auditor): the
   * read is itself an `audit.read` event in this chain, appended in the same transaction, with the
   * reason given. The page is read before the event is added, so it never lists its own read.
   */
  async auditedAccessLog(query: AccessLogQuery, audit: StoreAuditContext): Promise<RpcOutcome<Page<ChainedAuditEvent>>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(accessLogQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const resource = auditReadResource(parsed);
      return this.#audited(context, { action: "audit.read", resource, result: "success" }, () =>
        listAccessLog(this.ctx.storage.sql, parsed),
      );
    });
  }

  /** Account deletion: no upload of this user's writes another chunk (./health-store/upload-progress.ts). */
  async endAllUploads(): Promise<RpcOutcome<number>> {
    return outcomeOf(async () => this.#serially(async () => endAllUploads(this.ctx.storage.sql)));
  }

  /** Account deletion: the lake partitions holding this user's uploaded data (./health-store/lake-partitions.ts). */
  async lakePartitions(): Promise<RpcOutcome<LakePartition[]>> {
    return outcomeOf(async () =>
      this.#serially(async () => {
        this.#ensureSchema();
        return lakePartitions(this.ctx.storage.sql);
      }),
    );
  }

  /**
   * Seals the audit events appended since the last seal to R2 and applies retention
   * (./health-store/seal.ts). Set after audited appends; a failure is retried by the runtime.
   */
  override async alarm(): Promise<void> {
    this.#seals.reset(null);
    await this.#serially(async () => {
      this.#ensureSchema();
      const run = await sealStore(this.ctx.storage, this.env, new Date());
      if (run?.more) {
        const next = Date.now() + 1_000;
        await this.ctx.storage.setAlarm(next);
        this.#seals.reset(next);
      }
    });
  }

  /**
   * Verifies this store's chain against its seals (D1) and sealed chunks (R2) and reports the
   * first finding (src/audit/seal/verify.ts). Runs between appends and seals, never beside them.
   */
  async verifySealedAudit(userId: string): Promise<RpcOutcome<AuditVerificationReport>> {
    return outcomeOf(async () => {
      const owner = parseArgument(storeAuditContextSchema.shape.subject, userId, "userId");
      if (this.ctx.id.name !== undefined && this.ctx.id.name !== owner) throw new Error("HealthStore verified for another user");
      return this.#serially(async () => {
        this.#ensureSchema();
        return verifyStore(this.ctx.storage.sql, this.env, owner, new Date());
      });
    });
  }

  /**
   * What a person's export archive will hold (./health-store/export.ts); records `export.read` of
   * `export:{exportId}`, the start of the export in the person's access log.
   */
  async exportInventory(exportId: string, audit: StoreAuditContext): Promise<RpcOutcome<ExportInventory>> {
    return outcomeOf(async () => {
      const id = parseArgument(exportIdSchema, exportId, "exportId");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, { action: "export.read", resource: `export:${id}`, result: "success" }, () =>
        exportInventory(this.ctx.storage.sql),
      );
    });
  }

  /**
   * One page of one file of an export archive, as NDJSON. The first page of each file records
   * `export.read` naming the file; later pages record nothing more, so a year of data is a handful
   * of events in the access log rather than one per page.
   */
  async exportPage(query: ExportPageQuery, audit: StoreAuditContext): Promise<RpcOutcome<ExportPage>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(exportPageQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const read = () => readExportPage(this.ctx.storage.sql, parsed);
      if (parsed.cursor === undefined) {
        const resource = `export:${parsed.exportId}:${exportFileName(parsed)}`.slice(0, 200);
        return this.#audited(context, { action: "export.read", resource, result: "success" }, read);
      }
      return this.#serially(async () => {
        this.#ensureSchema();
        return read();
      });
    });
  }

  /**
   * The narrative of one local day or week (./health-store/narratives.ts): stored and fresh, or
   * computed now (and stored, unless limited by a grant). Records `narratives.read`. The person's
   * own read remembers its time zone, the one the refresh job then generates in.
   */
  async narrative(query: NarrativeQuery, audit: StoreAuditContext): Promise<RpcOutcome<NarrativeResult>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(narrativeQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const now = Date.now();
      const resource = narrativeResource(parsed);
      return this.#audited(context, { action: "narratives.read", resource, result: "success" }, () => {
        const own = context.actor === context.subject && parsed.categories === undefined && parsed.within === undefined;
        if (own) rememberTimeZone(this.ctx.storage.sql, parsed.timeZone);
        return readNarrative(this.ctx.storage.sql, parsed, now);
      });
    });
  }

  /** A stored narrative by id (regenerated first if stale); `NOT_FOUND` and no event when none. Records `narratives.read`. */
  async narrativeById(id: string, audit: StoreAuditContext): Promise<RpcOutcome<NarrativeResult>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(narrativeIdSchema, id, "id");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const bounds = await this.#serially(async () => {
        this.#ensureSchema();
        return storedBounds(this.ctx.storage.sql, parsed);
      });
      if (bounds === undefined) throw new DomainError("NOT_FOUND", "No narrative with this id.");
      const resource = storedNarrativeResource(bounds);
      return this.#audited(context, { action: "narratives.read", resource, result: "success" }, () =>
        narrativeById(this.ctx.storage.sql, parsed, Date.now()),
      );
    });
  }

  /** The refresh job's first step: clears the pending request and says what is stale and where the newest data is. */
  async claimNarrativeRefresh(): Promise<RpcOutcome<RefreshPlan>> {
    return outcomeOf(async () =>
      this.#serially(async () => {
        this.#ensureSchema();
        return this.ctx.storage.transactionSync(() => claimRefreshPlan(this.ctx.storage.sql));
      }),
    );
  }

  /**
   * Regenerates the stale narratives named and generates the targets not yet stored, each in its
   * own transaction with a `narratives.write` event; ones fresh by now are left alone.
   */
  async refreshNarratives(
    request: RefreshRequest,
    audit: StoreAuditContext,
  ): Promise<RpcOutcome<{ id: string; generatedAt: number }[]>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(refreshRequestSchema, request, "request");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const targets = await this.#serially(async () => {
        this.#ensureSchema();
        return refreshTargets(this.ctx.storage.sql, parsed);
      });
      const done: { id: string; generatedAt: number }[] = [];
      for (const target of targets) {
        const resource = narrativeResource(target);
        done.push(
          await this.#audited(context, { action: "narratives.write", resource, result: "success" }, () =>
            regenerate(this.ctx.storage.sql, target, Date.now()),
          ),
        );
      }
      return done;
    });
  }

  /**
   * The parts of a FHIR export of this store (./health-store/fhir-export.ts); records `export.read`
   * of the export as a whole, with its period, the start of it in the person's access log.
   */
  async fhirExportPlan(scope: FhirExportScope, audit: StoreAuditContext): Promise<RpcOutcome<FhirExportPartRef[]>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(fhirExportScopeSchema, scope, "scope");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, { action: "export.read", resource: fhirExportResource(parsed), result: "success" }, () =>
        fhirExportPlan(this.ctx.storage.sql),
      );
    });
  }

  /**
   * One page of one part of a FHIR export, as text ready to stream. As for the archive, the first
   * page of each part records `export.read` naming the part; later pages record nothing more.
   */
  async fhirExportPage(query: FhirExportPageQuery, audit: StoreAuditContext): Promise<RpcOutcome<FhirExportPage>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(fhirExportPageQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const read = () => readFhirExportPage(this.ctx.storage.sql, parsed, context.subject);
      if (parsed.cursor === undefined) {
        const resource = fhirExportPartResource(parsed);
        return this.#audited(context, { action: "export.read", resource, result: "success" }, read);
      }
      return this.#serially(async () => {
        this.#ensureSchema();
        // The subject names the Patient in every resource: a later page checks it as the first did.
        claimOwner(this.ctx.storage.sql, context.subject, this.ctx.id.name);
        return read();
      });
    });
  }

  /**
   * FHIR Observation search (./health-store/fhir.ts): samples, blood-pressure panels, sleep and
   * workouts merged by date; records one `observations.read` naming what it may read.
   */
  async fhirSearch(query: FhirSearchQuery, audit: StoreAuditContext): Promise<RpcOutcome<Page<FhirItem>>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(fhirSearchQuerySchema, query, "query");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const resource = fhirSearchResource(parsed);
      return this.#audited(context, { action: "observations.read", resource, result: "success" }, () =>
        searchFhirObservations(this.ctx.storage.sql, parsed),
      );
    });
  }

  /**
   * One FHIR Observation by its id, within what the reader may see; NOT_FOUND (and no event)
   * otherwise. The event names the item's metric and instant, so it is located before the read.
   */
  async fhirObservation(ref: FhirRef, scope: FhirScope, audit: StoreAuditContext): Promise<RpcOutcome<FhirReadItem>> {
    return outcomeOf(async () => {
      const parsedRef = parseArgument(fhirRefSchema, ref, "ref");
      const parsedScope = parseArgument(fhirScopeSchema, scope, "scope");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      const located = await this.#serially(async () => {
        this.#ensureSchema();
        return locateFhirObservation(this.ctx.storage.sql, parsedRef, parsedScope);
      });
      if (located === null) throw new DomainError("NOT_FOUND", "No Observation with this id.");
      return this.#audited(context, { ...located, result: "success" }, () =>
        readFhirObservation(this.ctx.storage.sql, parsedRef, parsedScope),
      );
    });
  }

  /** The devices and source apps in the data the reader may see; records `devices.read`. */
  async fhirDevices(scope: FhirScope, audit: StoreAuditContext): Promise<RpcOutcome<string[]>> {
    return outcomeOf(async () => {
      const parsed = parseArgument(fhirScopeSchema, scope, "scope");
      const context = parseArgument(storeAuditContextSchema, audit, "audit");
      return this.#audited(context, { action: "devices.read", resource: fhirDevicesResource(parsed), result: "success" }, () =>
        listFhirDevices(this.ctx.storage.sql, parsed),
      );
    });
  }

  #ingest(batch: IngestBatch, context: StoreAuditContext): Promise<BatchIngestResult> {
    const empty = batch.observations.length + batch.sleepSessions.length + batch.workouts.length === 0;
    if (empty) return Promise.resolve({ observations: NOTHING, sleepSessions: NOTHING, workouts: NOTHING });
    const now = Date.now();
    return this.#audited(context, { action: "observations.write", resource: ingestResource(batch), result: "success" }, () =>
      this.#store(batch, now, true),
    );
  }

  /**
   * The writes of an ingestion, inside the caller's transaction. `askRefresh` false (an upload's
   * chunk) leaves asking for the narrative refresh to the end of the upload's run.
   */
  #store(batch: IngestBatch, now: number, askRefresh: boolean): BatchIngestResult {
    const sql = this.ctx.storage.sql;
    const replaced = new TouchedSpan();
    const result: BatchIngestResult = {
      observations: ingestObservations(sql, batch.observations, now, replaced),
      sleepSessions: ingestSleepSessions(sql, batch.sleepSessions, now, replaced),
      workouts: ingestWorkouts(sql, batch.workouts, now, replaced),
    };
    recordSpans(sql, batch);
    const stored = [result.observations, result.sleepSessions, result.workouts].some((part) => part.accepted + part.replaced > 0);
    if (!stored) return result;
    const span = batchSpan(batch);
    markNarrativesStale(sql, span.since, span.until);
    // What a newer version replaced may lie elsewhere: narratives computed from it are stale too.
    if (!replaced.empty) markNarrativesStale(sql, replaced.since, replaced.until);
    if (!askRefresh) {
      noteLatestData(sql, span.latestStart);
      return result;
    }
    return { ...result, narrativesRefresh: requestRefresh(sql, span.latestStart, now) };
  }

  #ensureSchema(): void {
    if (this.#migrated) return;
    migrateStore(this.ctx.storage);
    this.#migrated = true;
  }

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #audited<T>(context: StoreAuditContext, action: AuditedAction, work: (event: ChainedAuditEvent) => T): Promise<T> {
    return this.#serially(async () => {
      this.#ensureSchema();
      const sql = this.ctx.storage.sql;
      const tail = readAuditTail(sql);
      const event = await chainAuditEvent(tail, { ...context, ...action, at: new Date().toISOString() });
      const result = this.ctx.storage.transactionSync(() => {
        const current = readAuditTail(sql);
        if (current.seq !== tail.seq || current.hash !== tail.hash) throw new Error("audit chain moved during an append");
        claimOwner(sql, context.subject, this.ctx.id.name);
        const result = work(event);
        insertAuditEvent(sql, event);
        return result;
      });
      await this.#seals.afterAppend(this.ctx.storage, event.seq);
      return result;
    });
  }
}
