import { canonicalJson } from "../canonical";
import { GENESIS_HASH } from "../chain";
import { auditEventFields, type ChainedAuditEvent } from "../event";

/**
 * Sealed audit chunks (docs/audit.md, "Sealing"). A chunk is one R2 object holding a contiguous
 * run of a chain's events; its D1 `audit_seals` row records the SHA-256 of the object's bytes and
 * chains to the previous chunk's seal, so the seal rows are a second, much shorter hash chain
 * that lives outside the store it protects.
 */
export const CHUNK_FORMAT = "pulse-audit-chunk/1";
export const MAX_CHUNK_EVENTS = 1_000;
/** The chain id of the D1 security chain; any other chain id is a user id. */
export const SECURITY_CHAIN = "security";
/** `prevSealHash` of a chain's first seal. */
export const GENESIS_SEAL_HASH = GENESIS_HASH;
/** Audit events are kept 7 years; after that only their seals' hashes remain (docs/audit.md). */
export const AUDIT_RETENTION_MS = 7 * 365.25 * 24 * 60 * 60 * 1000;

/** What a security chunk keeps of each event: hashes only, never the (erasable) personal fields. */
export interface SealedHashLink {
  seq: number;
  prevHash: string;
  hash: string;
}

export type SealedEvent = ChainedAuditEvent | SealedHashLink;

export interface AuditChunk<E extends SealedEvent = SealedEvent> {
  format: typeof CHUNK_FORMAT;
  chain: string;
  firstSeq: number;
  lastSeq: number;
  prevSealHash: string;
  events: E[];
}

export interface SealFields {
  chain: string;
  firstSeq: number;
  lastSeq: number;
  contentHash: string;
  lastEventHash: string;
  prevSealHash: string;
  sealedAt: Date;
}

/** `audit/{userId}/…` or `audit/security/…`; seqs zero-padded to 12 digits so keys sort by seq. */
export function chunkPrefix(chain: string): string {
  return `audit/${chain}/`;
}

export function chunkKey(chain: string, firstSeq: number, lastSeq: number): string {
  return `${chunkPrefix(chain)}${pad(firstSeq)}-${pad(lastSeq)}.json`;
}

function pad(seq: number): string {
  return String(seq).padStart(12, "0");
}

/** A user chunk keeps the full chained event: exactly the hashed fields plus both hashes. */
export function fullEvent(event: ChainedAuditEvent): ChainedAuditEvent {
  return { ...auditEventFields(event), prevHash: event.prevHash, hash: event.hash };
}

export function hashLink(event: SealedHashLink): SealedHashLink {
  return { seq: event.seq, prevHash: event.prevHash, hash: event.hash };
}

/**
 * The object's bytes: canonical JSON (src/audit/canonical.ts), so sealing the same events again
 * (a retried alarm or cron) writes byte-identical objects with the same content hash.
 */
export function encodeChunk(chunk: AuditChunk): Uint8Array {
  return new TextEncoder().encode(canonicalJson({ ...chunk, events: chunk.events.map((event) => ({ ...event })) }));
}

export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const input = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * `seal_hash = hex(SHA-256(UTF-8(prevSealHash "\n" chain "\n" firstSeq "\n" lastSeq "\n"
 * contentHash "\n" lastEventHash "\n" sealedAt)))`, seqs and `sealedAt` (epoch milliseconds) in
 * decimal, no trailing newline: reproducible with `printf '%s\n%s\n%s\n%s\n%s\n%s\n%s' … | sha256sum`.
 * `sealedAt` is covered because retention trusts it: a chunk sealed more than 7 years ago may be
 * gone, and backdating a seal to pass a deleted chunk off as expired must break the seal chain.
 */
export function sealHashOf(seal: SealFields): Promise<string> {
  const fields = [seal.prevSealHash, seal.chain, seal.firstSeq, seal.lastSeq, seal.contentHash, seal.lastEventHash];
  return sha256Hex([...fields, seal.sealedAt.getTime()].join("\n"));
}
