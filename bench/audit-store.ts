/**
 * The audit bench's HealthStore (bench/worker.ts exports it under the production class name): the
 * production store plus three bench-only methods, so a 100k-event chain can be written and sealed
 * in seconds and the cost of verifying it compared with WebCrypto alone on the same bytes.
 */

import { HealthStore as ProductionHealthStore } from "../durable-objects/health-store";
import { insertAuditEvent, listAuditEventsInOrder, readAuditTail } from "../durable-objects/health-store/audit-log";
import { sealStore } from "../durable-objects/health-store/seal";
import { canonicalJson } from "../src/audit/canonical";
import { chainAuditEvent, GENESIS_ANCHOR } from "../src/audit/chain";
import { auditEventFields, type ChainedAuditEvent } from "../src/audit/event";

const PAGE = 1_000;

export class BenchHealthStore extends ProductionHealthStore {
  #floorInputs: Uint8Array[] = [];

  /** Appends `count` chained events straight into the table, a page per transaction. */
  async benchSeedAudit(userId: string, count: number): Promise<number> {
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT OR IGNORE INTO store_meta (key, value) VALUES ('owner', ?)", userId);
    let tail = readAuditTail(sql);
    const context = {
      actor: userId,
      role: "patient",
      reason: null,
      requestId: "bench",
      ip: "10.0.0.1",
      subject: userId,
    } as const;
    for (let written = 0; written < count; written += PAGE) {
      const events: ChainedAuditEvent[] = [];
      for (let i = 0; i < Math.min(PAGE, count - written); i++) {
        const at = new Date(Date.UTC(2026, 0, 1) + (tail.seq + 1) * 60_000).toISOString();
        const event = await chainAuditEvent(tail, {
          ...context,
          at,
          action: "observations.read",
          resource: "observations:heart_rate",
          result: "success",
        });
        events.push(event);
        tail = { seq: event.seq, hash: event.hash };
      }
      this.ctx.storage.transactionSync(() => {
        for (const event of events) insertAuditEvent(sql, event);
      });
    }
    return tail.seq;
  }

  /** Seals everything now, as the alarms would over a few runs; the chunks written. */
  async benchSealAll(): Promise<number> {
    let chunks = 0;
    for (;;) {
      const run = await sealStore(this.ctx.storage, this.env, new Date());
      chunks += run?.chunks.length ?? 0;
      if (!run?.more) return chunks;
    }
  }

  /** The reference's input: every event's hash input (prevHash ‖ canonical event), as bytes. */
  async benchPrepareFloor(): Promise<number> {
    this.#floorInputs = [];
    const encoder = new TextEncoder();
    let after = GENESIS_ANCHOR.seq;
    for (;;) {
      const page = listAuditEventsInOrder(this.ctx.storage.sql, { afterSeq: after, limit: PAGE });
      for (const event of page)
        this.#floorInputs.push(encoder.encode(event.prevHash + canonicalJson({ ...auditEventFields(event) })));
      const last = page.at(-1);
      if (last === undefined || page.length < PAGE) return this.#floorInputs.length;
      after = last.seq;
    }
  }

  /** SHA-256 of each prepared input with WebCrypto, nothing else. */
  async benchHashFloor(): Promise<number> {
    for (const input of this.#floorInputs) await crypto.subtle.digest("SHA-256", input);
    return this.#floorInputs.length;
  }
}
