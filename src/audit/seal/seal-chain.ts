import type { Db } from "../../db/client";
import {
  type AuditChunk,
  CHUNK_FORMAT,
  chunkKey,
  encodeChunk,
  GENESIS_SEAL_HASH,
  MAX_CHUNK_EVENTS,
  type SealedEvent,
  sealHashOf,
  sha256Hex,
} from "./format";
import { insertSeal, lastSeal, sealAt } from "./seals";

/** Where a sealer reads its chain: events after `afterSeq`, ascending, at most `limit`. */
export interface ChainSource<E extends SealedEvent> {
  chain: string;
  read(afterSeq: number, limit: number): Promise<E[]> | E[];
}

export interface SealContext {
  db: Db;
  lake: R2Bucket;
  now: () => Date;
}

export interface SealRun {
  chunks: string[];
  sealedThroughSeq: number;
  /** True when `maxChunks` stopped the run with events still unsealed. */
  more: boolean;
}

/**
 * Seals every unsealed event of a chain, up to `maxChunks` chunks of at most 1,000 events. Where to
 * start is read from D1 (the last seal row), never from the store being sealed, so a run that
 * failed between the R2 put and the D1 insert is simply run again: the same events give the same
 * bytes under the same key. The chunk is written before its seal row: a seal row never points at
 * an object that was not written. When the insert fails the object is removed again (best effort),
 * so no chunk without a seal lingers past the last seal (verification reports one).
 */
export async function sealChain<E extends SealedEvent>(
  context: SealContext,
  source: ChainSource<E>,
  options: { maxChunks: number },
): Promise<SealRun> {
  const chunks: string[] = [];
  let last = await lastSeal(context.db, source.chain);
  for (;;) {
    const afterSeq = last?.lastSeq ?? 0;
    if (chunks.length >= options.maxChunks) {
      const pending = await source.read(afterSeq, 1);
      return { chunks, sealedThroughSeq: afterSeq, more: pending.length > 0 };
    }
    const events = await source.read(afterSeq, MAX_CHUNK_EVENTS);
    const first = events[0];
    const final = events.at(-1);
    if (first === undefined || final === undefined) return { chunks, sealedThroughSeq: afterSeq, more: false };
    const chunk: AuditChunk<E> = {
      format: CHUNK_FORMAT,
      chain: source.chain,
      firstSeq: first.seq,
      lastSeq: final.seq,
      prevSealHash: last?.sealHash ?? GENESIS_SEAL_HASH,
      events,
    };
    const bytes = encodeChunk(chunk);
    const contentHash = await sha256Hex(bytes);
    const key = chunkKey(source.chain, chunk.firstSeq, chunk.lastSeq);
    const fields = { ...chunk, contentHash, lastEventHash: final.hash, sealedAt: context.now() };
    const row = { ...fields, r2Key: key, sealHash: await sealHashOf(fields) };
    await context.lake.put(key, bytes, { sha256: contentHash, httpMetadata: { contentType: "application/json" } });
    let stored: boolean;
    try {
      stored = await insertSeal(context.db, row);
    } catch (error) {
      await context.lake.delete(key).catch(() => undefined);
      throw error;
    }
    if (stored) chunks.push(key);
    else {
      // Another sealer got there first; with a different range, this object is nobody's chunk.
      const winner = await sealAt(context.db, source.chain, chunk.firstSeq);
      if (winner?.r2Key !== key) await context.lake.delete(key);
    }
    last = await lastSeal(context.db, source.chain);
  }
}
