import { getDb } from "../../db/client";
import { type StoredSecurityEvent, securityEventHash } from "../commitments";
import { listSecurityEvents } from "../security-events";
import { hashLink, SECURITY_CHAIN } from "./format";
import { type SealRun, sealChain } from "./seal-chain";
import { type AuditVerificationReport, verifySealedChain } from "./verify";

/**
 * The D1 security chain, sealed by an hourly cron into `audit/security/…`. Its chunks keep only
 * `{seq, prevHash, hash}` of each event: account deletion later erases the personal fields of
 * these rows (keeping each hash valid), and a sealed copy must not keep what was erased. The
 * hashes alone still pin every row's content, place and order.
 */
const MAX_CHUNKS_PER_RUN = 50;

interface SecurityEnv {
  DB: D1Database;
  LAKE: R2Bucket;
}

export function sealSecurityChain(env: SecurityEnv, now = new Date()): Promise<SealRun> {
  const db = getDb(env.DB);
  return sealChain(
    { db, lake: env.LAKE, now: () => now },
    {
      chain: SECURITY_CHAIN,
      read: async (afterSeq, limit) => (await listSecurityEvents(db, { afterSeq, limit })).map(hashLink),
    },
    // An hour's events fit many times over; a backlog is worked off over the next runs.
    { maxChunks: MAX_CHUNKS_PER_RUN },
  );
}

export const sealSecurityChainJob = {
  name: "sealSecurityChain",
  async run(env: SecurityEnv, scheduledTime: Date): Promise<void> {
    await sealSecurityChain(env, scheduledTime);
  },
};

export function verifySecurityAudit(env: SecurityEnv, now = new Date()): Promise<AuditVerificationReport> {
  const db = getDb(env.DB);
  return verifySealedChain(
    { db, lake: env.LAKE, now },
    {
      chain: SECURITY_CHAIN,
      sealedForm: "hashes",
      read: (afterSeq, limit) => listSecurityEvents(db, { afterSeq, limit }),
      hashMatches: securityEventHashMatches,
    },
  );
}

/**
 * Whether a D1 row's content still gives its stored hash, by the security chain's rule: over the
 * salted commitments of its personal fields, recomputed while intact or as stored once erased
 * (src/audit/commitments.ts).
 */
async function securityEventHashMatches(event: StoredSecurityEvent): Promise<boolean> {
  return (await securityEventHash(event)) === event.hash;
}
