import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { ProviderName } from "../../providers/registry";
import { sqlList } from "./audit-vocabulary";

/**
 * Incoming provider webhook deliveries (DESIGN §5, §7), one row per distinct event: the verified
 * facts only. The raw payload is in R2 (`r2_key`); `hints` holds what verification read from it
 * (provider user ids, data types, object ids, dates and instants — never a health value), which is
 * all the webhook job acts on. `(provider, dedup_key)` is unique, so a re-delivery is recognised and
 * never stored or processed twice. Rows and payloads live 30 days (src/providers/webhooks/events.ts).
 */
export const WEBHOOK_EVENT_STATUSES = ["received", "processed", "dropped"] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

export const WEBHOOK_AUTHENTICITIES = ["signed", "shared-secret", "unsigned-hint"] as const;

/** One change hint as stored (src/providers/webhooks/types.ts `ChangeHint`). */
export interface StoredHint {
  providerUserId: string;
  dataType: string;
  operation: "upsert" | "delete" | "deauthorize" | "other";
  objectId?: string;
  start?: string;
  end?: string;
  date?: string;
  endDate?: string;
}

export const webhookEvents = sqliteTable(
  "webhook_events",
  {
    id: text("id").primaryKey(),
    provider: text("provider").$type<ProviderName>().notNull(),
    dedupKey: text("dedup_key").notNull(),
    eventType: text("event_type").notNull(),
    authenticity: text("authenticity", { enum: WEBHOOK_AUTHENTICITIES }).notNull(),
    hints: text("hints", { mode: "json" }).$type<StoredHint[]>().notNull(),
    /**
     * The provider's user id when every hint names the same one (all providers but Google's
     * batches): what deletion matches before the event was resolved to a Pulse user.
     */
    providerUserId: text("provider_user_id"),
    r2Key: text("r2_key").notNull(),
    status: text("status", { enum: WEBHOOK_EVENT_STATUSES }).notNull(),
    /** Set when the webhook job resolved the hint to a live connection. */
    userId: text("user_id"),
    connectionId: text("connection_id"),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
    /**
     * When the WEBHOOKS message was last sent; null while none was (R2 or the queue failed after the
     * row was written). The sweep re-sends rows still `received` without one, or long after it.
     */
    enqueuedAt: integer("enqueued_at", { mode: "timestamp_ms" }),
    /** Times the sweep re-sent this event; past a bound it is dropped instead of looping. */
    sweeps: integer("sweeps").notNull().default(0),
    processedAt: integer("processed_at", { mode: "timestamp_ms" }),
  },
  (table) => [
    uniqueIndex("webhook_events_provider_dedup_unique").on(table.provider, table.dedupKey),
    // The sweep (status = received, by enqueue time) and retention (by receipt) scans.
    index("webhook_events_status_enqueued_idx").on(table.status, table.enqueuedAt),
    index("webhook_events_received_idx").on(table.receivedAt),
    // Deleting one person's events with one provider (disconnect with data=delete).
    index("webhook_events_provider_user_idx").on(table.provider, table.userId),
    index("webhook_events_provider_account_idx").on(table.provider, table.providerUserId),
    check("webhook_events_status_check", sql.raw(`status IN (${sqlList(WEBHOOK_EVENT_STATUSES)})`)),
    check("webhook_events_authenticity_check", sql.raw(`authenticity IN (${sqlList(WEBHOOK_AUTHENTICITIES)})`)),
  ],
);

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
