import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { type ChainVerification, chainAuditEvent, GENESIS_ANCHOR, verifyChain } from "../src/audit/chain";
import { type AuditEvent, auditActionSchema, type ChainedAuditEvent } from "../src/audit/event";
import { AUDIT_RESULTS } from "../src/audit/vocabulary";
import { insertAuditEvent, listAccessLog, listAuditEventsInOrder, readAuditTail } from "./health-store/audit-log";
import { ingestObservations } from "./health-store/ingest";
import { migrateStore } from "./health-store/migrations";
import { claimOwner } from "./health-store/owner";
import { queryObservations } from "./health-store/query";
import {
  type AccessLogQuery,
  accessLogQuerySchema,
  type IngestResult,
  ingestBatchSchema,
  type Observation,
  type ObservationInput,
  type ObservationQuery,
  observationQuerySchema,
  type Page,
  type StoreAuditContext,
  storeAuditContextSchema,
} from "./health-store/schema";
import { parseArgument } from "./health-store/validate";

type AuditedAction = Pick<AuditEvent, "action" | "resource" | "result">;

const auditedActionSchema = z.strictObject({
  action: auditActionSchema,
  resource: z.string().min(1).max(200),
  result: z.enum(AUDIT_RESULTS),
});

const VERIFY_PAGE_SIZE = 500;

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => this.#ensureSchema());
  }

  /** Stores a batch of observations idempotently and records `observations.write`. */
  async ingest(batch: ObservationInput[], audit: StoreAuditContext): Promise<IngestResult> {
    const records = parseArgument(ingestBatchSchema, batch, "batch");
    const context = parseArgument(storeAuditContextSchema, audit, "audit");
    const now = Date.now();
    return this.#audited(context, { action: "observations.write", resource: "observations", result: "success" }, () =>
      ingestObservations(this.ctx.storage.sql, records, now),
    );
  }

  /** One page of observations, and an `observations.read` event recorded with the read. */
  async queryObservations(query: ObservationQuery, audit: StoreAuditContext): Promise<Page<Observation>> {
    const parsed = parseArgument(observationQuerySchema, query, "query");
    const context = parseArgument(storeAuditContextSchema, audit, "audit");
    const resource = parsed.metric === undefined ? "observations" : `observations:${parsed.metric}`;
    return this.#audited(context, { action: "observations.read", resource, result: "success" }, () =>
      queryObservations(this.ctx.storage.sql, parsed),
    );
  }

  /** Records an event with no data access of its own, e.g. a grantee's read that was `denied`. */
  async appendAuditEvent(event: AuditedAction, audit: StoreAuditContext): Promise<ChainedAuditEvent> {
    const parsed = parseArgument(auditedActionSchema, event, "event");
    const context = parseArgument(storeAuditContextSchema, audit, "audit");
    return this.#audited(context, parsed, (recorded) => recorded);
  }

  /** Every recorded access, newest first (what `GET /v1/me/access-log` shows). */
  async accessLog(query: AccessLogQuery = {}): Promise<Page<ChainedAuditEvent>> {
    const parsed = parseArgument(accessLogQuerySchema, query, "query");
    return this.#serially(async () => {
      this.#ensureSchema();
      return listAccessLog(this.ctx.storage.sql, parsed);
    });
  }

  /** Recomputes the whole chain from genesis and reports the first event that does not verify. */
  async verifyAudit(): Promise<ChainVerification> {
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
  }

  /**
   * Erases everything this store holds, its audit chain included (DESIGN §8: deleting a user is
   * deleting their HealthStore's storage). The caller records the deletion in the D1 chain.
   */
  async deleteAll(): Promise<void> {
    return this.#serially(async () => {
      await this.ctx.storage.deleteAll();
      this.#migrated = false;
    });
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
      return this.ctx.storage.transactionSync(() => {
        const current = readAuditTail(sql);
        if (current.seq !== tail.seq || current.hash !== tail.hash) throw new Error("audit chain moved during an append");
        claimOwner(sql, context.subject, this.ctx.id.name);
        const result = work(event);
        insertAuditEvent(sql, event);
        return result;
      });
    });
  }
}
