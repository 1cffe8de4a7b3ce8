import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { sqlList } from "./audit-vocabulary";
import { users } from "./users";

/**
 * Identity tables (DESIGN §4). Secrets are never stored: refresh tokens, recovery codes and device
 * credentials keep only a SHA-256 of their high-entropy secret part (src/auth/secrets.ts).
 * Instants are epoch milliseconds.
 */

export const CEREMONY_KINDS = ["register", "login", "add_passkey", "delete_account"] as const;
export type CeremonyKind = (typeof CEREMONY_KINDS)[number];

/** One WebAuthn ceremony: its challenge, single-use (consumed_at) and short-lived (expires_at). */
export const authFlows = sqliteTable(
  "auth_flows",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: CEREMONY_KINDS }).notNull(),
    challenge: text("challenge").notNull(),
    userId: text("user_id"),
    username: text("username"),
    displayName: text("display_name"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    consumedAt: integer("consumed_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    index("auth_flows_expires_idx").on(table.expiresAt),
    check("auth_flows_kind_check", sql.raw(`kind IN (${sqlList(CEREMONY_KINDS)})`)),
  ],
);

export const passkeys = sqliteTable(
  "passkeys",
  {
    /** The credential id, base64url, as the authenticator reports it. */
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    counter: integer("counter").notNull().default(0),
    transports: text("transports", { mode: "json" }).$type<string[]>().notNull(),
    aaguid: text("aaguid").notNull(),
    backupEligible: integer("backup_eligible", { mode: "boolean" }).notNull(),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("passkeys_user_idx").on(table.userId)],
);

export const SESSION_KINDS = ["interactive", "recovery"] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

/**
 * A signed-in session: the refresh-token family. Interactive sessions end 12 h after sign-in or
 * after 30 min without activity (NIST SP 800-63B AAL2); recovery sessions may only add a passkey.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: SESSION_KINDS }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    revokedReason: text("revoked_reason"),
    userAgent: text("user_agent"),
  },
  (table) => [
    index("sessions_user_idx").on(table.userId, table.createdAt),
    check("sessions_kind_check", sql.raw(`kind IN (${sqlList(SESSION_KINDS)})`)),
  ],
);

/** Refresh tokens `id.secret`: rotated on every use; presenting a used one revokes the session. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    secretHash: text("secret_hash").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("refresh_tokens_session_idx").on(table.sessionId)],
);

export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("recovery_codes_user_idx").on(table.userId)],
);

/** Device credentials for background uploaders: scope-limited and bound to a DPoP key (RFC 9449). */
export const devices = sqliteTable(
  "devices",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    secretHash: text("secret_hash").notNull(),
    /** RFC 7638 thumbprint of the device's public key (the DPoP `jkt`). */
    jkt: text("jkt").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (table) => [index("devices_user_idx").on(table.userId, table.createdAt)],
);
