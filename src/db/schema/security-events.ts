import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ACTOR_ROLES, AUDIT_RESULTS, sqlList } from "./audit-vocabulary";

/**
 * The D1 audit chain: account and security events (DESIGN §8), hash-chained like each user's
 * HealthStore audit (src/audit/chain.ts). `seq` is the primary key and is assigned explicitly by
 * the appender as last+1, so two concurrent appenders cannot both take the same place in the
 * chain: the loser's batch fails on the key and is retried (src/audit/security-events.ts).
 * Rows are append-only; no foreign key to users, so the trail outlives a deleted account and
 * keeps only its pseudonymous id.
 */
export const securityEvents = sqliteTable(
  "security_events",
  {
    seq: integer("seq").primaryKey(),
    at: text("at").notNull(),
    actor: text("actor").notNull(),
    role: text("role", { enum: ACTOR_ROLES }).notNull(),
    action: text("action").notNull(),
    resource: text("resource").notNull(),
    subject: text("subject"),
    reason: text("reason"),
    result: text("result", { enum: AUDIT_RESULTS }).notNull(),
    requestId: text("request_id"),
    ip: text("ip"),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    /**
     * Per-event random salt of the personal fields' commitments (src/audit/): the hash covers
     * salted SHA-256 commitments of actor, subject, resource, reason and ip, so those fields can be
     * erased (replaced by their commitments, salt dropped) when the account is deleted and the chain
     * still verifies. NULL on events written before commitments existed, and on erased events.
     */
    salt: text("salt"),
    /** When this event's personal fields were erased (account deletion); NULL while they are intact. */
    erasedAt: integer("erased_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    index("security_events_subject_idx").on(table.subject, table.seq),
    check("security_events_seq_check", sql.raw("seq >= 1")),
    check("security_events_role_check", sql.raw(`role IN (${sqlList(ACTOR_ROLES)})`)),
    check("security_events_result_check", sql.raw(`result IN (${sqlList(AUDIT_RESULTS)})`)),
  ],
);

export type SecurityEventRow = typeof securityEvents.$inferSelect;
