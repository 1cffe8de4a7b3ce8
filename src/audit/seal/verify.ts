import { z } from "zod";
import type { Db } from "../../db/client";
import type { AuditSealRow } from "../../db/schema/audit-seals";
import { type ChainAnchor, GENESIS_ANCHOR, hashAuditEvent } from "../chain";
import { ACTOR_ROLES, AUDIT_RESULTS, type ChainedAuditEvent } from "../event";
import {
  AUDIT_RETENTION_MS,
  CHUNK_FORMAT,
  chunkPrefix,
  GENESIS_SEAL_HASH,
  MAX_CHUNK_EVENTS,
  type SealedEvent,
  sealHashOf,
  sha256Hex,
} from "./format";
import { listSeals } from "./seals";

/**
 * Verification of a sealed chain (docs/audit.md, "Verification"): the D1 seal rows, the R2 chunks
 * they name, the events inside the chunks, and the live events (a HealthStore's table or the D1
 * rows), walked in seq order a chunk at a time so memory stays flat. The first finding stops the
 * walk; a broken chain is a finding to report, never an exception.
 */
export const AUDIT_PROBLEMS = [
  "seal_broken",
  "chunk_missing",
  "chunk_altered",
  "chunk_unsealed",
  "seq_gap",
  "prev_hash_mismatch",
  "hash_mismatch",
  "event_missing",
  "event_altered",
  "event_reordered",
] as const;
export type AuditProblem = (typeof AUDIT_PROBLEMS)[number];

export interface AuditFinding {
  seq?: number;
  chunk?: string;
  problem: AuditProblem;
}

export interface AuditVerificationReport {
  ok: boolean;
  chain: string;
  /** Events whose hashes were recomputed or compared with their sealed copy. */
  eventsChecked: number;
  /** R2 chunks fetched and checked against their seals. */
  chunksChecked: number;
  /** The last seq covered by a seal (0 when nothing is sealed yet). */
  sealedThroughSeq: number;
  /** The last seq past retention: its chunk is gone, only its seal's hashes remain (0 when none). */
  retainedThroughSeq: number;
  firstBroken?: AuditFinding;
}

/** The chain as it lives in its store: events after `afterSeq`, ascending, at most `limit`. */
export interface LiveChain {
  chain: string;
  /** `full`: chunks hold the whole chained events; `hashes`: only `{seq, prevHash, hash}`. */
  sealedForm: "full" | "hashes";
  read(afterSeq: number, limit: number): Promise<ChainedAuditEvent[]> | ChainedAuditEvent[];
  /** Whether a live event's content still gives its stored hash. */
  hashMatches(event: ChainedAuditEvent): Promise<boolean>;
}

export interface VerifyContext {
  db: Db;
  lake: R2Bucket;
  now: Date;
}

const SEAL_PAGE = 100;
const TAIL_PAGE = 500;
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

class Broken extends Error {
  constructor(readonly finding: AuditFinding) {
    super(finding.problem);
  }
}

export async function verifySealedChain(context: VerifyContext, live: LiveChain): Promise<AuditVerificationReport> {
  const report: AuditVerificationReport = {
    ok: true,
    chain: live.chain,
    eventsChecked: 0,
    chunksChecked: 0,
    sealedThroughSeq: 0,
    retainedThroughSeq: 0,
  };
  try {
    const anchor = await walkSeals(context, live, report);
    await checkNoUnsealedChunk(context.lake, live.chain, report);
    await walkTail(live, anchor, report);
  } catch (error) {
    if (!(error instanceof Broken)) throw error;
    report.ok = false;
    report.firstBroken = error.finding;
  }
  return report;
}

async function walkSeals(context: VerifyContext, live: LiveChain, report: AuditVerificationReport): Promise<ChainAnchor> {
  const cutoff = context.now.getTime() - AUDIT_RETENTION_MS;
  let anchor = GENESIS_ANCHOR;
  let prevSealHash = GENESIS_SEAL_HASH;
  let retaining = true;
  let afterFirstSeq = 0;
  for (;;) {
    const seals = await listSeals(context.db, live.chain, { afterFirstSeq, limit: SEAL_PAGE });
    for (const seal of seals) {
      await checkSeal(seal, anchor, prevSealHash);
      const object = await context.lake.get(seal.r2Key);
      if (object === null) {
        // Retention removes the oldest chunks first; a missing chunk is expired only in that prefix.
        if (!retaining || seal.sealedAt.getTime() >= cutoff)
          throw new Broken({ seq: seal.firstSeq, chunk: seal.r2Key, problem: "chunk_missing" });
        report.retainedThroughSeq = seal.lastSeq;
      } else {
        retaining = false;
        const events = await readChunk(object, seal, live.sealedForm);
        await checkChunkEvents(events, anchor, seal, live.sealedForm);
        report.chunksChecked += 1;
        report.eventsChecked += await compareLive(live, events, seal, cutoff);
      }
      anchor = { seq: seal.lastSeq, hash: seal.lastEventHash };
      prevSealHash = seal.sealHash;
      report.sealedThroughSeq = seal.lastSeq;
    }
    const last = seals.at(-1);
    if (last === undefined || seals.length < SEAL_PAGE) return anchor;
    afterFirstSeq = last.firstSeq;
  }
}

async function checkSeal(seal: AuditSealRow, anchor: ChainAnchor, prevSealHash: string): Promise<void> {
  const broken = (seq: number) => new Broken({ seq, chunk: seal.r2Key, problem: "seal_broken" });
  // A deleted seal row leaves a gap in the seqs the seals cover and a link to a seal that is gone.
  if (seal.firstSeq !== anchor.seq + 1 || seal.prevSealHash !== prevSealHash) throw broken(anchor.seq + 1);
  if (seal.lastSeq < seal.firstSeq || seal.lastSeq - seal.firstSeq >= MAX_CHUNK_EVENTS) throw broken(seal.firstSeq);
  if ((await sealHashOf(seal)) !== seal.sealHash) throw broken(seal.firstSeq);
}

const linkSchema = z.strictObject({ seq: z.number().int().min(1), prevHash: z.string(), hash: z.string() });
const fullEventSchema = linkSchema.extend({
  at: z.string(),
  actor: z.string(),
  role: z.enum(ACTOR_ROLES),
  action: z.string(),
  resource: z.string(),
  subject: z.string().nullable(),
  reason: z.string().nullable(),
  result: z.enum(AUDIT_RESULTS),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
});
const chunkSchema = z.strictObject({
  format: z.literal(CHUNK_FORMAT),
  chain: z.string(),
  firstSeq: z.number().int(),
  lastSeq: z.number().int(),
  prevSealHash: z.string(),
  events: z.array(z.unknown()).min(1).max(MAX_CHUNK_EVENTS),
});

async function readChunk(object: R2ObjectBody, seal: AuditSealRow, form: LiveChain["sealedForm"]): Promise<SealedEvent[]> {
  const altered = new Broken({ seq: seal.firstSeq, chunk: seal.r2Key, problem: "chunk_altered" });
  // 1,000 events of bounded fields are well under this; a larger object was not written by a sealer.
  if (object.size > MAX_CHUNK_BYTES) {
    await object.body.cancel();
    throw altered;
  }
  const bytes = new Uint8Array(await object.arrayBuffer());
  if ((await sha256Hex(bytes)) !== seal.contentHash) throw altered;
  let parsed: z.infer<typeof chunkSchema>;
  try {
    parsed = chunkSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch {
    throw altered;
  }
  const header = [parsed.chain, parsed.firstSeq, parsed.lastSeq, parsed.prevSealHash];
  if (header.join("\n") !== [seal.chain, seal.firstSeq, seal.lastSeq, seal.prevSealHash].join("\n")) throw altered;
  const schema = form === "full" ? fullEventSchema : linkSchema;
  const events = parsed.events.map((event) => schema.safeParse(event));
  const valid = events.flatMap((result) => (result.success ? [result.data] : []));
  if (valid.length !== events.length) throw altered;
  return valid;
}

/** The chunk's events continue the chain from `anchor` and end where the seal says. */
async function checkChunkEvents(
  events: readonly SealedEvent[],
  anchor: ChainAnchor,
  seal: AuditSealRow,
  form: LiveChain["sealedForm"],
): Promise<void> {
  // Each event carries its predecessor's hash, so every hash can be recomputed at once; the links
  // are then checked in order.
  const hashOk = form === "full" ? await Promise.all(events.map(recomputes)) : events.map(() => true);
  let head = anchor;
  for (const [index, event] of events.entries()) {
    const problem = linkProblem(head, event, hashOk[index]);
    if (problem !== null) throw new Broken({ seq: head.seq + 1, chunk: seal.r2Key, problem });
    head = { seq: event.seq, hash: event.hash };
  }
  if (head.seq !== seal.lastSeq || head.hash !== seal.lastEventHash) {
    throw new Broken({ seq: head.seq, chunk: seal.r2Key, problem: "chunk_altered" });
  }
}

async function recomputes(event: SealedEvent): Promise<boolean> {
  return "at" in event && (await hashAuditEvent(event.prevHash, event)) === event.hash;
}

function linkProblem(
  head: ChainAnchor,
  event: SealedEvent,
  hashOk: boolean | undefined,
): "seq_gap" | "prev_hash_mismatch" | "hash_mismatch" | null {
  if (event.seq !== head.seq + 1) return "seq_gap";
  if (event.prevHash !== head.hash) return "prev_hash_mismatch";
  if (hashOk !== true) return "hash_mismatch";
  return null;
}

/**
 * The live events of a chunk's seqs are the sealed ones: same content, same place. An event may be
 * absent only when retention has deleted it (older than 7 years).
 */
async function compareLive(live: LiveChain, sealed: readonly SealedEvent[], seal: AuditSealRow, cutoff: number): Promise<number> {
  const rows = await live.read(seal.firstSeq - 1, seal.lastSeq - seal.firstSeq + 1);
  const bySeq = new Map(rows.filter((row) => row.seq <= seal.lastSeq).map((row) => [row.seq, row]));
  const sealedSeqByHash = new Map(sealed.map((event) => [event.hash, event.seq]));
  // Hash-only chunks cannot vouch for a row's fields: each D1 row must still give its own hash.
  const rowHashOk =
    live.sealedForm === "hashes"
      ? new Map(await Promise.all(rows.map(async (row) => [row.seq, await live.hashMatches(row)] as const)))
      : null;
  let checked = 0;
  for (const event of sealed) {
    const row = bySeq.get(event.seq);
    if (row === undefined) {
      if ("at" in event && Date.parse(event.at) < cutoff) continue;
      throw new Broken({ seq: event.seq, problem: "event_missing" });
    }
    if (row.hash !== event.hash) {
      const moved = sealedSeqByHash.get(row.hash);
      throw new Broken({ seq: event.seq, problem: moved === undefined ? "event_altered" : "event_reordered" });
    }
    const same = "at" in event ? sameEvent(row, event) : row.prevHash === event.prevHash && rowHashOk?.get(row.seq) === true;
    if (!same) throw new Broken({ seq: event.seq, problem: "event_altered" });
    checked += 1;
  }
  return checked;
}

function sameEvent(a: ChainedAuditEvent, b: ChainedAuditEvent): boolean {
  return (
    a.seq === b.seq &&
    a.at === b.at &&
    a.actor === b.actor &&
    a.role === b.role &&
    a.action === b.action &&
    a.resource === b.resource &&
    a.subject === b.subject &&
    a.reason === b.reason &&
    a.result === b.result &&
    a.requestId === b.requestId &&
    a.ip === b.ip &&
    a.prevHash === b.prevHash &&
    a.hash === b.hash
  );
}

/**
 * An object past the last seal is a chunk whose seal row was deleted (the newest one). A sealer
 * puts its chunk just before inserting the seal row, so a verification that runs in that moment
 * (only possible for the security chain; a store verifies and seals one at a time) reports it too.
 */
async function checkNoUnsealedChunk(lake: R2Bucket, chain: string, report: AuditVerificationReport): Promise<void> {
  const prefix = chunkPrefix(chain);
  const startAfter = `${prefix}${String(report.sealedThroughSeq).padStart(12, "0")}-~`;
  const listed = await lake.list({ prefix, startAfter, limit: 1 });
  const orphan = listed.objects[0];
  if (orphan !== undefined) throw new Broken({ seq: report.sealedThroughSeq + 1, chunk: orphan.key, problem: "chunk_unsealed" });
}

/** The unsealed events continue the chain from the last sealed one. */
async function walkTail(live: LiveChain, anchor: ChainAnchor, report: AuditVerificationReport): Promise<void> {
  let head = anchor;
  for (;;) {
    const page = await live.read(head.seq, TAIL_PAGE);
    const hashOk = await Promise.all(page.map((event) => live.hashMatches(event)));
    for (const [index, event] of page.entries()) {
      const problem = linkProblem(head, event, hashOk[index]);
      if (problem !== null) throw new Broken({ seq: head.seq + 1, problem });
      head = { seq: event.seq, hash: event.hash };
      report.eventsChecked += 1;
    }
    if (page.length < TAIL_PAGE) return;
  }
}
