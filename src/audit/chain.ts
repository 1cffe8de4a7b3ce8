import { canonicalJson } from "./canonical";
import { type AuditEvent, auditEventFields, type ChainedAuditEvent } from "./event";

/**
 * The audit hash chain (DESIGN §8): `hash = hex(SHA-256(UTF-8(prevHash || canonicalJson(event))))`,
 * where `prevHash` is the 64-character lowercase hex hash of the previous event, or 64 zeros for
 * the first event of a chain, and `event` is exactly the eleven fields of `AuditEvent`.
 */
export const GENESIS_HASH = "0".repeat(64);

/** Where a chain (or a slice of one) continues from: the last verified event, or genesis. */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

export const GENESIS_ANCHOR: ChainAnchor = { seq: 0, hash: GENESIS_HASH };

export async function hashAuditEvent(prevHash: string, event: AuditEvent): Promise<string> {
  const input = new TextEncoder().encode(prevHash + canonicalJson({ ...auditEventFields(event) }));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Gives a new event its place after `tail` and its hash. */
export async function chainAuditEvent(tail: ChainAnchor, event: Omit<AuditEvent, "seq">): Promise<ChainedAuditEvent> {
  const placed: AuditEvent = { ...event, seq: tail.seq + 1 };
  return { ...placed, prevHash: tail.hash, hash: await hashAuditEvent(tail.hash, placed) };
}

export type ChainBreak = "seq_gap" | "prev_hash_mismatch" | "hash_mismatch";

export type ChainVerification =
  | { ok: true; count: number; head: ChainAnchor }
  | { ok: false; count: number; brokenAt: number; problem: ChainBreak; head: ChainAnchor };

/**
 * Verifies events in ascending `seq` order, continuing from `after` (genesis by default, or the
 * last event of a previously verified page). Reports the first event that does not follow:
 * a missing or repeated seq, a `prevHash` that is not its predecessor's hash, or a stored hash
 * that does not match the event's content. `head` is the last event that verified. `hashOf` is how
 * an event's hash is recomputed: plain for HealthStore chains, over salted commitments for the D1
 * security chain (./commitments.ts).
 */
export async function verifyChain<E extends ChainedAuditEvent>(
  events: readonly E[],
  after: ChainAnchor = GENESIS_ANCHOR,
  hashOf: (event: E) => Promise<string> = (event) => hashAuditEvent(event.prevHash, event),
): Promise<ChainVerification> {
  let head = after;
  let count = 0;
  for (const event of events) {
    const problem = await checkLink(head, event, hashOf);
    if (problem !== null) return { ok: false, count, brokenAt: head.seq + 1, problem, head };
    head = { seq: event.seq, hash: event.hash };
    count += 1;
  }
  return { ok: true, count, head };
}

async function checkLink<E extends ChainedAuditEvent>(
  head: ChainAnchor,
  event: E,
  hashOf: (event: E) => Promise<string>,
): Promise<ChainBreak | null> {
  if (event.seq !== head.seq + 1) return "seq_gap";
  if (event.prevHash !== head.hash) return "prev_hash_mismatch";
  if ((await hashOf(event)) !== event.hash) return "hash_mismatch";
  return null;
}
