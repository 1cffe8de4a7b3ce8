/**
 * The vocabulary of incoming provider webhook events (DESIGN §5, §7). The events themselves are not
 * D1 rows: at one row per delivery they would put thousands of writes a second on D1's single
 * writer at ten million people, so they live in the sharded WebhookLedger Durable Object
 * (durable-objects/webhook-ledger.ts, through src/providers/webhooks/events.ts). `hints` holds what
 * verification read from a payload (provider user ids, data types, object ids, dates and instants —
 * never a health value), which is all the webhook job acts on.
 */
export const WEBHOOK_EVENT_STATUSES = ["received", "processed", "dropped"] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

export const WEBHOOK_AUTHENTICITIES = ["signed", "shared-secret", "unsigned-hint"] as const;
export type WebhookAuthenticity = (typeof WEBHOOK_AUTHENTICITIES)[number];

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
