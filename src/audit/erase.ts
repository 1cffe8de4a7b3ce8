/**
 * Erasure of an account's personal data from the D1 security chain (account deletion, DESIGN §8).
 * Every event whose actor or subject is the user keeps its place, action, role, result, time and
 * hash, but its actor, subject, resource, reason and ip become their salted commitments and the
 * salt is dropped (./commitments.ts): the chain still verifies, and nothing left names the person.
 *
 * Idempotent and resumable: only events not yet erased are read, a page at a time, and each page
 * is written in one batch. Events older than commitments (no salt) cannot be erased without
 * breaking their hash; they are left as they are and counted, so the caller can report them.
 */
import { and, asc, eq, gt, isNull, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { securityEvents } from "../db/schema";
import { committedFields } from "./commitments";

const PAGE_SIZE = 100;

export interface Erasure {
  erased: number;
  /** Events about the user written before commitments existed, left intact. */
  legacy: number;
}

export async function eraseSecurityEventsOf(db: Db, userId: string, now = new Date()): Promise<Erasure> {
  const about = or(eq(securityEvents.actor, userId), eq(securityEvents.subject, userId));
  let erased = 0;
  let legacy = 0;
  let afterSeq = 0;
  for (;;) {
    const page = await db
      .select()
      .from(securityEvents)
      .where(and(about, isNull(securityEvents.erasedAt), gtSeq(afterSeq)))
      .orderBy(asc(securityEvents.seq))
      .limit(PAGE_SIZE);
    const updates = [];
    for (const row of page) {
      if (row.salt === null) {
        legacy += 1;
        continue;
      }
      const committed = await committedFields(row, row.salt);
      updates.push(
        db
          .update(securityEvents)
          .set({
            actor: committed.actor,
            subject: committed.subject,
            resource: committed.resource,
            reason: committed.reason,
            ip: committed.ip,
            salt: null,
            erasedAt: now,
          })
          // Only an intact row: a concurrent erasure of the same row must not commit twice.
          .where(and(eq(securityEvents.seq, row.seq), isNull(securityEvents.erasedAt))),
      );
    }
    const [first, ...rest] = updates;
    if (first !== undefined) await db.batch([first, ...rest]);
    erased += updates.length;
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE_SIZE) return { erased, legacy };
    afterSeq = last.seq;
  }
}

function gtSeq(afterSeq: number) {
  return afterSeq === 0 ? undefined : gt(securityEvents.seq, afterSeq);
}
