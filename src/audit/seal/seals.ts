import { and, asc, desc, eq, gt, lt } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type AuditSealRow, auditSeals } from "../../db/schema/audit-seals";

/** The D1 `audit_seals` rows of one chain: the head of trust kept outside the store they seal. */
export async function lastSeal(db: Db, chain: string): Promise<AuditSealRow | undefined> {
  const [row] = await db.select().from(auditSeals).where(eq(auditSeals.chain, chain)).orderBy(desc(auditSeals.firstSeq)).limit(1);
  return row;
}

export async function sealAt(db: Db, chain: string, firstSeq: number): Promise<AuditSealRow | undefined> {
  const [row] = await db
    .select()
    .from(auditSeals)
    .where(and(eq(auditSeals.chain, chain), eq(auditSeals.firstSeq, firstSeq)))
    .limit(1);
  return row;
}

/** Seal rows in seq order, after the one starting at `afterFirstSeq` (0 for the start). */
export function listSeals(db: Db, chain: string, page: { afterFirstSeq: number; limit: number }): Promise<AuditSealRow[]> {
  return db
    .select()
    .from(auditSeals)
    .where(and(eq(auditSeals.chain, chain), gt(auditSeals.firstSeq, page.afterFirstSeq)))
    .orderBy(asc(auditSeals.firstSeq))
    .limit(page.limit);
}

/** Inserts a seal unless one already starts at the same seq; true when this one was stored. */
export async function insertSeal(db: Db, row: AuditSealRow): Promise<boolean> {
  const inserted = await db.insert(auditSeals).values(row).onConflictDoNothing().returning({ firstSeq: auditSeals.firstSeq });
  return inserted.length > 0;
}

/** Seals sealed before `cutoff`, oldest first: their chunks are past retention. */
export function listSealsSealedBefore(
  db: Db,
  chain: string,
  page: { afterFirstSeq: number; cutoff: Date; limit: number },
): Promise<AuditSealRow[]> {
  return db
    .select()
    .from(auditSeals)
    .where(and(eq(auditSeals.chain, chain), gt(auditSeals.firstSeq, page.afterFirstSeq), lt(auditSeals.sealedAt, page.cutoff)))
    .orderBy(asc(auditSeals.firstSeq))
    .limit(page.limit);
}
