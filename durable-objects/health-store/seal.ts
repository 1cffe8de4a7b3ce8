import { hashAuditEvent } from "../../src/audit/chain";
import type { ChainedAuditEvent } from "../../src/audit/event";
import { AUDIT_RETENTION_MS, fullEvent, MAX_CHUNK_EVENTS } from "../../src/audit/seal/format";
import { type SealRun, sealChain } from "../../src/audit/seal/seal-chain";
import { listSealsSealedBefore } from "../../src/audit/seal/seals";
import { type AuditVerificationReport, type LiveChain, verifySealedChain } from "../../src/audit/seal/verify";
import { getDb } from "../../src/db/client";
import { errorName, log } from "../../src/observability/log";
import { listAuditEventsInOrder } from "./audit-log";

/**
 * Sealing this store's audit chain to R2 (docs/audit.md, "Sealing"). Each store seals itself with
 * a Durable Object alarm rather than a cron walking every user: the work is spread over the
 * objects, scales with the user base and costs nothing for users who are idle.
 */
export const SEAL_DELAY_MS = 15 * 60 * 1000;
/** Sooner when more than a chunk is waiting, so a busy store never lets a long run go unsealed. */
export const SEAL_DELAY_BUSY_MS = 60 * 1000;
/** Chunks per alarm; a store with more waiting sets its next alarm right away. */
const MAX_CHUNKS_PER_ALARM = 20;
const RETENTION_PAGE = 100;

interface SealEnv {
  DB: D1Database;
  LAKE: R2Bucket;
}

/** When the store's seal alarm is due; `undefined` until first read from storage. */
export class SealSchedule {
  #alarmAt: number | null | undefined;

  /**
   * After an audited append: make sure an alarm will seal it. The append has committed by now, so
   * a failure here is logged, not thrown: the next append tries again.
   */
  async afterAppend(storage: DurableObjectStorage, seq: number): Promise<void> {
    try {
      if (this.#alarmAt === undefined) this.#alarmAt = await storage.getAlarm();
      const unsealed = seq - readMetaNumber(storage.sql, "sealed_through");
      const due = Date.now() + (unsealed > MAX_CHUNK_EVENTS ? SEAL_DELAY_BUSY_MS : SEAL_DELAY_MS);
      if (this.#alarmAt === null || this.#alarmAt > due) {
        await storage.setAlarm(due);
        this.#alarmAt = due;
      }
    } catch (error) {
      this.#alarmAt = undefined;
      log("error", "audit seal alarm not set", { error: errorName(error) });
    }
  }

  /** The alarm fired (and is no longer pending), or was set again by the alarm itself. */
  reset(at: number | null): void {
    this.#alarmAt = at;
  }
}

/**
 * The alarm's work: seal every unsealed event (up to `MAX_CHUNKS_PER_ALARM` chunks), then apply
 * retention. Where sealing resumes is read from D1, so a failed or repeated alarm is harmless.
 */
export async function sealStore(storage: DurableObjectStorage, env: SealEnv, now: Date): Promise<SealRun | null> {
  const sql = storage.sql;
  const owner = readMeta(sql, "owner");
  if (owner === undefined || !hasAuditTable(sql)) return null;
  const db = getDb(env.DB);
  const run = await sealChain(
    { db, lake: env.LAKE, now: () => now },
    { chain: owner, read: (afterSeq, limit) => listAuditEventsInOrder(sql, { afterSeq, limit }).map(fullEvent) },
    { maxChunks: MAX_CHUNKS_PER_ALARM },
  );
  writeMeta(sql, "sealed_through", String(run.sealedThroughSeq));
  await applyRetention(storage, env, owner, run.sealedThroughSeq, now);
  return run;
}

/**
 * Audit events are kept 7 years. Sealed events older than that leave the store; chunks sealed
 * before the cutoff (so every event in them is older) leave R2. Their seal rows stay in D1, so
 * the seal chain still verifies from genesis and later chunks still link to it.
 */
async function applyRetention(storage: DurableObjectStorage, env: SealEnv, owner: string, sealedThrough: number, now: Date) {
  const cutoff = new Date(now.getTime() - AUDIT_RETENTION_MS);
  storage.sql.exec("DELETE FROM audit_events WHERE seq <= ? AND at < ?", sealedThrough, cutoff.toISOString());
  const db = getDb(env.DB);
  let afterFirstSeq = readMetaNumber(storage.sql, "retention_after_first_seq");
  for (;;) {
    const expired = await listSealsSealedBefore(db, owner, { afterFirstSeq, cutoff, limit: RETENTION_PAGE });
    const last = expired.at(-1);
    if (last === undefined) return;
    await env.LAKE.delete(expired.map((seal) => seal.r2Key));
    afterFirstSeq = last.firstSeq;
    writeMeta(storage.sql, "retention_after_first_seq", String(afterFirstSeq));
    if (expired.length < RETENTION_PAGE) return;
  }
}

/** Verifies this store's chain against its seals in D1 and chunks in R2; a finding is data. */
export function verifyStore(sql: SqlStorage, env: SealEnv, userId: string, now: Date): Promise<AuditVerificationReport> {
  // A dropped table is a finding (every sealed event missing), not a crash.
  const present = hasAuditTable(sql);
  const live: LiveChain = {
    chain: userId,
    sealedForm: "full",
    read: (afterSeq, limit) => (present ? listAuditEventsInOrder(sql, { afterSeq, limit }) : []),
    hashMatches: async (event: ChainedAuditEvent) => (await hashAuditEvent(event.prevHash, event)) === event.hash,
  };
  return verifySealedChain({ db: getDb(env.DB), lake: env.LAKE, now }, live);
}

function hasAuditTable(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'").toArray().length > 0;
}

function readMeta(sql: SqlStorage, key: string): string | undefined {
  const [row] = sql.exec<{ value: string }>("SELECT value FROM store_meta WHERE key = ?", key).toArray();
  return row?.value;
}

function readMetaNumber(sql: SqlStorage, key: string): number {
  const value = Number(readMeta(sql, key) ?? 0);
  return Number.isSafeInteger(value) ? value : 0;
}

function writeMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}
