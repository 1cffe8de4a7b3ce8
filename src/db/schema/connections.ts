import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ProviderName } from "../../providers/registry";
import { sqlList } from "./audit-vocabulary";
import { timestamps } from "./columns";
import { users } from "./users";

/**
 * Provider connections (DESIGN §7): one row per user and provider. Tokens are stored only sealed
 * (AES-256-GCM, src/providers/tokens.ts) as `<key id>.<iv>.<ciphertext>`, bound to this row's
 * user, provider and id, so a copied ciphertext does not open elsewhere.
 *
 * `revoked` rows are history: their tokens are cleared and they no longer count for the
 * uniqueness rules, so a user can connect again, and a provider account released by one Pulse
 * user can be connected by another. `last_error_message` is written by Pulse, never copied from a
 * provider's answer, so it holds no token or health value.
 */
export const CONNECTION_STATUSES = ["active", "reauth_required", "revoked", "sync_failed"] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export const connections = sqliteTable(
  "connections",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    provider: text("provider").$type<ProviderName>().notNull(),
    /** The provider's id for the account; null until the profile call answers (or never, for some). */
    providerUserId: text("provider_user_id"),
    status: text("status", { enum: CONNECTION_STATUSES }).notNull(),
    /** Scopes granted, as the provider reported them (or as requested when it did not say). */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    accessTokenCiphertext: text("access_token_ciphertext"),
    refreshTokenCiphertext: text("refresh_token_ciphertext"),
    /** When the access token expires; null when the provider did not say (long-lived tokens). */
    accessExpiresAt: integer("access_expires_at", { mode: "timestamp_ms" }),
    lastSyncAt: integer("last_sync_at", { mode: "timestamp_ms" }),
    lastErrorCode: text("last_error_code"),
    lastErrorMessage: text("last_error_message"),
    /** Where an interrupted sync resumes (src/providers/driver.ts `SyncCursor`); never a secret. */
    syncCheckpoint: text("sync_checkpoint", { mode: "json" }).$type<Record<string, unknown>>(),
    /**
     * The refresh lease (src/providers/sync/lease.ts): while `refresh_lease_until` is in the future
     * only the holder of `refresh_lease_id` may spend the refresh token, so a rotated refresh token
     * is never presented twice.
     */
    refreshLeaseUntil: integer("refresh_lease_until", { mode: "timestamp_ms" }),
    refreshLeaseId: text("refresh_lease_id"),
    ...timestamps(),
  },
  (table) => [
    uniqueIndex("connections_user_provider_live_unique")
      .on(table.userId, table.provider)
      .where(sql`${table.status} <> 'revoked'`),
    uniqueIndex("connections_provider_account_live_unique")
      .on(table.provider, table.providerUserId)
      .where(sql`${table.status} <> 'revoked' AND ${table.providerUserId} IS NOT NULL`),
    // The hourly refresh scan: active connections whose access token expires within the hour.
    index("connections_status_expiry_idx").on(table.status, table.accessExpiresAt),
    index("connections_user_idx").on(table.userId, table.createdAt),
    check("connections_status_check", sql.raw(`status IN (${sqlList(CONNECTION_STATUSES)})`)),
  ],
);

export type ConnectionRow = typeof connections.$inferSelect;
export type NewConnectionRow = typeof connections.$inferInsert;
