import { asc, desc, gt } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Db } from "../db/client";
import { isConstraintViolation } from "../db/errors";
import { securityEvents } from "../db/schema";
import { DomainError } from "../errors/domain-error";
import { type ChainAnchor, GENESIS_ANCHOR, hashAuditEvent } from "./chain";
import { committedFields, newSalt, type StoredSecurityEvent } from "./commitments";
import type { AuditDraft, AuditEvent, ChainedAuditEvent } from "./event";

/**
 * Appends to the D1 security chain in the same `db.batch` as the write it records (D1 has no
 * interactive transactions; a batch is one transaction). Concurrency is optimistic: read the tail,
 * hash the new event in JS, insert it with explicit `seq = tail + 1` (the primary key) ahead of
 * the recorded writes. A concurrent appender that took that seq first makes the whole batch fail
 * on the key and roll back, so nothing is half-written and the chain never forks; the append is
 * retried against the fresh tail. Any other failure (e.g. a duplicate username in the recorded
 * write) rolls back the event too and is rethrown unchanged.
 */
const MAX_ATTEMPTS = 40;
const MAX_BACKOFF_MS = 40;

export type SecurityWrite = BatchItem<"sqlite">;

export interface AppendResult {
  event: ChainedAuditEvent;
  /** The batch results of `writes`, in order (e.g. rows from a RETURNING clause). */
  results: unknown[];
}

export async function appendSecurityEvent(
  db: Db,
  draft: AuditDraft,
  writes: readonly SecurityWrite[] = [],
): Promise<AppendResult> {
  for (let attempt = 1; ; attempt++) {
    const event = await chainSecurityEvent(await readTail(db), { ...draft, at: new Date().toISOString() });
    try {
      const [, ...results] = await db.batch([db.insert(securityEvents).values(event), ...writes]);
      return { event, results };
    } catch (error) {
      if (!isSeqConflict(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        throw new DomainError("SERVICE_UNAVAILABLE", "The audit log is busy; try again.", { cause: error });
      }
      await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
    }
  }
}

/**
 * Places an event after `tail` with a fresh salt; its hash covers the salted commitments of its
 * personal fields (./commitments.ts), so erasing them later leaves the chain verifiable.
 */
async function chainSecurityEvent(tail: ChainAnchor, draft: Omit<AuditEvent, "seq">): Promise<StoredSecurityEvent> {
  const placed: AuditEvent = { ...draft, seq: tail.seq + 1 };
  const salt = newSalt();
  const hash = await hashAuditEvent(tail.hash, await committedFields(placed, salt));
  return { ...placed, prevHash: tail.hash, hash, salt, erasedAt: null };
}

async function readTail(db: Db): Promise<ChainAnchor> {
  const [last] = await db
    .select({ seq: securityEvents.seq, hash: securityEvents.hash })
    .from(securityEvents)
    .orderBy(desc(securityEvents.seq))
    .limit(1);
  return last ?? GENESIS_ANCHOR;
}

function isSeqConflict(error: unknown): boolean {
  return isConstraintViolation(error, /security_events\.seq\b/);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A page of the chain in ascending order, after `afterSeq` (0 for the start). */
export async function listSecurityEvents(db: Db, page: { afterSeq: number; limit: number }): Promise<StoredSecurityEvent[]> {
  const rows = await db
    .select()
    .from(securityEvents)
    .where(gt(securityEvents.seq, page.afterSeq))
    .orderBy(asc(securityEvents.seq))
    .limit(page.limit);
  return rows;
}
