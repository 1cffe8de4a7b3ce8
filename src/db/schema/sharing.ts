import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { sqlList } from "./audit-vocabulary";
import { users } from "./users";

/**
 * Consented sharing (DESIGN §8). A patient invites someone by role; the invitation's one-time code
 * is stored only as its SHA-256; redeeming it creates the grant that grantee reads go through.
 *
 * A grant covers metric categories (the registry's, src/observations/metrics.ts; the domain narrows them) and, optionally, a
 * period of data (`data_since`/`data_until`, epoch ms, half-open); it is valid until `expires_at`
 * or `revoked_at`. Instants are epoch milliseconds.
 */
export const GRANTEE_ROLES = ["clinician", "researcher"] as const;
export type GranteeRole = (typeof GRANTEE_ROLES)[number];

/** What is shared, the same on an invitation and on the grant redeeming it creates. */
function sharedScope() {
  return {
    role: text("role", { enum: GRANTEE_ROLES }).notNull(),
    categories: text("categories", { mode: "json" }).$type<string[]>().notNull(),
    dataSince: integer("data_since", { mode: "timestamp_ms" }),
    dataUntil: integer("data_until", { mode: "timestamp_ms" }),
  };
}

export const grantInvitations = sqliteTable(
  "grant_invitations",
  {
    id: text("id").primaryKey(),
    patientId: text("patient_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    ...sharedScope(),
    /** When the grant created from this invitation ends. */
    grantExpiresAt: integer("grant_expires_at", { mode: "timestamp_ms" }).notNull(),
    note: text("note"),
    /** hex SHA-256 of the one-time code; the code itself is shown once, at creation. */
    codeHash: text("code_hash").notNull(),
    /** When the code stops being redeemable (7 days after creation). */
    codeExpiresAt: integer("code_expires_at", { mode: "timestamp_ms" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    redeemedAt: integer("redeemed_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    uniqueIndex("grant_invitations_code_hash_unique").on(table.codeHash),
    index("grant_invitations_patient_idx").on(table.patientId, table.createdAt),
    check("grant_invitations_role_check", sql.raw(`role IN (${sqlList(GRANTEE_ROLES)})`)),
  ],
);

export const grants = sqliteTable(
  "grants",
  {
    id: text("id").primaryKey(),
    invitationId: text("invitation_id").notNull(),
    patientId: text("patient_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    granteeId: text("grantee_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    ...sharedScope(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    note: text("note"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    /** The grantee's last read through this grant (updated at most once a minute). */
    lastAccessedAt: integer("last_accessed_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    // An invitation is redeemed once: a second redemption racing the first fails on this key.
    uniqueIndex("grants_invitation_unique").on(table.invitationId),
    index("grants_grantee_patient_idx").on(table.granteeId, table.patientId),
    index("grants_patient_idx").on(table.patientId, table.createdAt),
    check("grants_role_check", sql.raw(`role IN (${sqlList(GRANTEE_ROLES)})`)),
  ],
);

/**
 * Consent records: which version of the terms or the privacy notice a person accepted, when, and
 * when they withdrew it. Rows are never rewritten except to set `withdrawn_at`; accepting a newer
 * version adds a row, so the history stays complete.
 */
export const CONSENT_DOCUMENTS = ["terms", "privacy"] as const;
export type ConsentDocument = (typeof CONSENT_DOCUMENTS)[number];

export const consents = sqliteTable(
  "consents",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    document: text("document", { enum: CONSENT_DOCUMENTS }).notNull(),
    version: text("version").notNull(),
    acceptedAt: integer("accepted_at", { mode: "timestamp_ms" }).notNull(),
    withdrawnAt: integer("withdrawn_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    index("consents_user_idx").on(table.userId, table.document, table.acceptedAt),
    // One active acceptance per version: of two acceptances racing, the second fails on this key
    // and answers with the first (src/consent/records.ts) instead of adding a duplicate row.
    uniqueIndex("consents_active_unique").on(table.userId, table.document, table.version).where(sql`withdrawn_at IS NULL`),
    check("consents_document_check", sql.raw(`document IN (${sqlList(CONSENT_DOCUMENTS)})`)),
  ],
);

export type GrantInvitationRow = typeof grantInvitations.$inferSelect;
export type GrantRow = typeof grants.$inferSelect;
export type ConsentRow = typeof consents.$inferSelect;
