import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Sealed audit chunks (DESIGN §8): each row is one chunk of a chain written to R2, with the hash
 * of its content and the hash that chains it to the chunk before. `chain` is `security` for the D1
 * security chain, or a user id for that user's HealthStore chain. The head of each chain's seals
 * lives here, outside the store it seals, so deleting or rewriting events (or chunks) is detectable.
 * No foreign key: seal rows outlive the events they seal (retention keeps only these hashes).
 */
export const auditSeals = sqliteTable(
  "audit_seals",
  {
    chain: text("chain").notNull(),
    firstSeq: integer("first_seq").notNull(),
    lastSeq: integer("last_seq").notNull(),
    r2Key: text("r2_key").notNull(),
    /** hex SHA-256 of the chunk object's bytes. */
    contentHash: text("content_hash").notNull(),
    /** hash of the last event of the chunk, as the chain recorded it. */
    lastEventHash: text("last_event_hash").notNull(),
    prevSealHash: text("prev_seal_hash").notNull(),
    sealHash: text("seal_hash").notNull(),
    sealedAt: integer("sealed_at", { mode: "timestamp_ms" }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.chain, table.firstSeq] }), index("audit_seals_sealed_at_idx").on(table.sealedAt)],
);

export type AuditSealRow = typeof auditSeals.$inferSelect;
