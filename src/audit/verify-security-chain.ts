import type { Db } from "../db/client";
import { type ChainVerification, GENESIS_ANCHOR, verifyChain } from "./chain";
import { securityEventHash } from "./commitments";
import { listSecurityEvents } from "./security-events";

const PAGE_SIZE = 500;

/**
 * Verifies the whole D1 security chain from genesis, a page at a time so memory stays flat however
 * long the chain grows. Stops at the first event that does not follow its predecessor. Intact
 * events are hashed over their salted commitments, erased ones over the commitments they hold,
 * events older than commitments over their plain fields (./commitments.ts).
 */
export async function verifySecurityChain(db: Db): Promise<ChainVerification> {
  let head = GENESIS_ANCHOR;
  let count = 0;
  for (;;) {
    const page = await listSecurityEvents(db, { afterSeq: head.seq, limit: PAGE_SIZE });
    const result = await verifyChain(page, head, securityEventHash);
    count += result.count;
    if (!result.ok) return { ...result, count };
    head = result.head;
    if (page.length < PAGE_SIZE) return { ok: true, count, head };
  }
}
