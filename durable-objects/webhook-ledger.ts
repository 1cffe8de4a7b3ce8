/**
 * The webhook event ledger, sharded (docs/providers.md "Storage", docs/scale.md): every verified
 * provider delivery becomes one event row in the shard its `(provider, dedupKey)` hashes to,
 * addressed as `WEBHOOK_LEDGER.getByName("shard:<n>")`. A shard is the unit that recognises a
 * re-delivery (the dedup key is unique within it), keeps the delivery history and sweeps its own
 * unsent or unprocessed events — so the write rate of deliveries spreads over the shards instead of
 * landing on D1's single writer. src/providers/webhooks/events.ts is the only caller.
 *
 * The contract:
 *  - `store(events)`: inserts each event unless its `(provider, dedupKey)` is held; answers, per
 *    event, the row now holding the key and whether it is this event's (no row when the key is free
 *    but the id is another event's: an id is never reused, so that message is not ours to store,
 *    and refusing it alone keeps it from failing the events stored with it). Synchronous from the first
 *    statement to the answer (a Durable Object runs one event at a time until it awaits), so of two
 *    concurrent deliveries of one event exactly one inserts.
 *  - `load(ids)`, `setEnqueued(id, atMs)`, `settle(outcomes, nowMs)`: the job's reads and writes;
 *    only a `received` row moves, so a redelivered message changes nothing.
 *  - `index(entries)`, `indexed(keys)`, `unindex(entries)`: the person index. Events are spread by
 *    dedup key, not by person, so each event is also listed under every provider account its hints
 *    name (and, once resolved, its user) in the shard that key hashes to: deleting one person's
 *    events asks the shards of their keys, not every shard.
 *  - `forget(ids, provider)`: deletes these events and their R2 payloads (payloads first).
 *  - `count()`: how many events the shard holds.
 *  - the alarm: every `SWEEP_INTERVAL_MS` while a row is `received`, re-sends stuck events to the
 *    WEBHOOKS queue (or drops one swept `MAX_SWEEPS` times); and deletes rows and payloads older
 *    than `WEBHOOK_RETENTION_DAYS`, and index entries a day later. A shard with nothing left to
 *    watch sleeps until its oldest row or entry expires; one with neither keeps no alarm.
 *
 * The tables are created on the first write only: counting fans out over every shard, and must
 * not leave storage behind in shards that never held an event.
 */
import { DurableObject } from "cloudflare:workers";
import type { StoredHint, WebhookAuthenticity, WebhookEventStatus } from "../src/db/schema/webhook-events";
import { errorName, log } from "../src/observability/log";

export const WEBHOOK_RETENTION_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How often a shard holding unsettled events looks at them. */
export const SWEEP_INTERVAL_MS = 5 * 60_000;
/** The sweep re-sends an event left without a message this long, or unprocessed this long after one. */
export const UNSENT_AFTER_MS = 2 * 60_000;
export const UNPROCESSED_AFTER_MS = 60 * 60_000;
/** After this many sweeps an event that never gets processed is dropped instead of looping. */
export const MAX_SWEEPS = 5;
/** Rows per page: a Queues sendBatch takes at most 100 messages, an R2 delete 1,000 keys. */
const PAGE_SIZE = 90;
/** Pages per alarm, so one alarm stays short; a shard with more to do comes back sooner. */
const PAGES_PER_ALARM = 50;
const BACKLOG_RETRY_MS = 30_000;
/** Index entries outlive the events they list by a day, so no event is ever unlisted while held. */
const INDEX_RETENTION_MS = (WEBHOOK_RETENTION_DAYS + 1) * DAY_MS;

export interface LedgerEvent {
  id: string;
  provider: string;
  dedupKey: string;
  eventType: string;
  authenticity: WebhookAuthenticity;
  hints: StoredHint[];
  /** The provider's user id when every hint names the same one: what deletion matches before resolution. */
  providerUserId: string | null;
  r2Key: string;
  status: WebhookEventStatus;
  userId: string | null;
  connectionId: string | null;
  receivedAt: Date;
  /** When the WEBHOOKS message was last sent; null while none was (the sweep sends one). */
  enqueuedAt: Date | null;
  sweeps: number;
  processedAt: Date | null;
}

export type NewLedgerEvent = Pick<
  LedgerEvent,
  | "id"
  | "provider"
  | "dedupKey"
  | "eventType"
  | "authenticity"
  | "hints"
  | "providerUserId"
  | "r2Key"
  | "receivedAt"
  | "enqueuedAt"
>;

export interface LedgerOutcome {
  id: string;
  status: "processed" | "dropped";
  userId: string | null;
  connectionId: string | null;
}

/** An event listed under a person's key (`account:<provider>:<providerUserId>` or `user:<userId>`). */
export interface IndexEntry {
  key: string;
  eventId: string;
}

type Row = {
  id: string;
  provider: string;
  dedup_key: string;
  event_type: string;
  authenticity: string;
  hints: string;
  provider_user_id: string | null;
  r2_key: string;
  status: string;
  user_id: string | null;
  connection_id: string | null;
  received_at: number;
  enqueued_at: number | null;
  sweeps: number;
  processed_at: number | null;
};

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    event_type TEXT NOT NULL,
    authenticity TEXT NOT NULL CHECK (authenticity IN ('signed', 'shared-secret', 'unsigned-hint')),
    hints TEXT NOT NULL,
    provider_user_id TEXT,
    r2_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'processed', 'dropped')),
    user_id TEXT,
    connection_id TEXT,
    received_at INTEGER NOT NULL,
    enqueued_at INTEGER,
    sweeps INTEGER NOT NULL DEFAULT 0,
    processed_at INTEGER
  ) STRICT`,
  "CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events (provider, dedup_key)",
  // The sweep (received, by enqueue time) and retention (by receipt) scans.
  "CREATE INDEX IF NOT EXISTS events_pending ON events (status, enqueued_at)",
  "CREATE INDEX IF NOT EXISTS events_received ON events (received_at)",
  // The person index: the events stored in any shard under one key that hashes to this one.
  `CREATE TABLE IF NOT EXISTS event_index (
    key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (key, event_id)
  ) STRICT, WITHOUT ROWID`,
  "CREATE INDEX IF NOT EXISTS event_index_at ON event_index (at)",
];

function toEvent(row: Row): LedgerEvent {
  return {
    id: row.id,
    provider: row.provider,
    dedupKey: row.dedup_key,
    eventType: row.event_type,
    authenticity: row.authenticity as WebhookAuthenticity,
    hints: JSON.parse(row.hints) as StoredHint[],
    providerUserId: row.provider_user_id,
    r2Key: row.r2_key,
    status: row.status as WebhookEventStatus,
    userId: row.user_id,
    connectionId: row.connection_id,
    receivedAt: new Date(row.received_at),
    enqueuedAt: row.enqueued_at === null ? null : new Date(row.enqueued_at),
    sweeps: row.sweeps,
    processedAt: row.processed_at === null ? null : new Date(row.processed_at),
  };
}

export class WebhookLedger extends DurableObject<Env> {
  #ready = false;

  /** Whether this shard ever held an event; creates the table when `create`. */
  #table(create: boolean): boolean {
    if (this.#ready) return true;
    const sql = this.ctx.storage.sql;
    const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").toArray().length > 0;
    if (!exists && !create) return false;
    for (const statement of SCHEMA) sql.exec(statement);
    this.#ready = true;
    return true;
  }

  async store(events: readonly NewLedgerEvent[]): Promise<{ inserted: boolean; event: LedgerEvent | null }[]> {
    this.#table(true);
    const sql = this.ctx.storage.sql;
    const results = events.map((event) => {
      const [inserted] = sql
        .exec<Row>(
          `INSERT INTO events (id, provider, dedup_key, event_type, authenticity, hints, provider_user_id, r2_key,
             status, received_at, enqueued_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?)
           ON CONFLICT DO NOTHING
           RETURNING *`,
          event.id,
          event.provider,
          event.dedupKey,
          event.eventType,
          event.authenticity,
          JSON.stringify(event.hints),
          event.providerUserId,
          event.r2Key,
          event.receivedAt.getTime(),
          event.enqueuedAt?.getTime() ?? null,
        )
        .toArray();
      if (inserted) return { inserted: true, event: toEvent(inserted) };
      const [holder] = sql
        .exec<Row>("SELECT * FROM events WHERE provider = ? AND dedup_key = ?", event.provider, event.dedupKey)
        .toArray();
      return { inserted: false, event: holder === undefined ? null : toEvent(holder) };
    });
    await this.#wake();
    return results;
  }

  /**
   * A write brings the next sweep to at most `SWEEP_INTERVAL_MS` away, never later: a shard asleep
   * until its oldest row expires (weeks away) would otherwise leave a new event that gets stuck
   * unswept until then.
   */
  async #wake(): Promise<void> {
    const due = Date.now() + SWEEP_INTERVAL_MS;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > due) await this.ctx.storage.setAlarm(due);
  }

  /** Lists events under their keys (idempotent: an entry written twice is one entry). */
  async index(entries: readonly IndexEntry[], atMs: number): Promise<void> {
    if (entries.length === 0) return;
    this.#table(true);
    const sql = this.ctx.storage.sql;
    for (const entry of entries) {
      sql.exec(
        "INSERT INTO event_index (key, event_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        entry.key,
        entry.eventId,
        atMs,
      );
    }
    await this.#wake();
  }

  async indexed(keys: readonly string[]): Promise<IndexEntry[]> {
    if (keys.length === 0 || !this.#table(false)) return [];
    const marks = keys.map(() => "?").join(", ");
    return this.ctx.storage.sql
      .exec<{ key: string; event_id: string }>(`SELECT key, event_id FROM event_index WHERE key IN (${marks})`, ...keys)
      .toArray()
      .map((row) => ({ key: row.key, eventId: row.event_id }));
  }

  async unindex(entries: readonly IndexEntry[]): Promise<void> {
    if (entries.length === 0 || !this.#table(false)) return;
    const sql = this.ctx.storage.sql;
    for (const entry of entries) sql.exec("DELETE FROM event_index WHERE key = ? AND event_id = ?", entry.key, entry.eventId);
  }

  async load(ids: readonly string[]): Promise<LedgerEvent[]> {
    if (ids.length === 0 || !this.#table(false)) return [];
    const rows: LedgerEvent[] = [];
    for (let start = 0; start < ids.length; start += PAGE_SIZE) {
      const page = ids.slice(start, start + PAGE_SIZE);
      const marks = page.map(() => "?").join(", ");
      rows.push(
        ...this.ctx.storage.sql
          .exec<Row>(`SELECT * FROM events WHERE id IN (${marks})`, ...page)
          .toArray()
          .map(toEvent),
      );
    }
    return rows;
  }

  /** When the event's message was sent (null: it was not, the sweep sends one); a settled event keeps its own. */
  async setEnqueued(id: string, atMs: number | null): Promise<void> {
    if (!this.#table(false)) return;
    this.ctx.storage.sql.exec("UPDATE events SET enqueued_at = ? WHERE id = ? AND status = 'received'", atMs, id);
  }

  async settle(outcomes: readonly LedgerOutcome[], nowMs: number): Promise<void> {
    if (outcomes.length === 0 || !this.#table(false)) return;
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const outcome of outcomes) {
        sql.exec(
          "UPDATE events SET status = ?, user_id = ?, connection_id = ?, processed_at = ? WHERE id = ? AND status = 'received'",
          outcome.status,
          outcome.userId,
          outcome.connectionId,
          nowMs,
          outcome.id,
        );
      }
    });
  }

  /**
   * Deletes these events (of `provider` only, when named), payloads first so a failure leaves rows
   * to retry rather than orphaned objects. Answers the ids no longer held: deleted now or before.
   */
  async forget(ids: readonly string[], provider: string | null): Promise<{ deleted: number; gone: string[] }> {
    const events = await this.load(ids);
    const doomed = events.filter((event) => provider === null || event.provider === provider);
    const held = new Set(events.map((event) => event.id));
    for (let start = 0; start < doomed.length; start += PAGE_SIZE) {
      const page = doomed.slice(start, start + PAGE_SIZE);
      await this.env.LAKE.delete(page.map((event) => event.r2Key));
      const marks = page.map(() => "?").join(", ");
      this.ctx.storage.sql.exec(`DELETE FROM events WHERE id IN (${marks})`, ...page.map((event) => event.id));
      for (const event of page) held.delete(event.id);
    }
    return { deleted: doomed.length, gone: ids.filter((id) => !held.has(id)) };
  }

  async count(): Promise<number> {
    if (!this.#table(false)) return 0;
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n;
  }

  /**
   * The shard's own maintenance. A failure is logged and the next alarm is set regardless: a
   * shard that stopped waking would leave its stuck events unsent until its next delivery.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    let backlog = false;
    try {
      if (this.#table(false)) {
        backlog = (await this.sweep(now)).backlog;
        backlog = (await this.purge(now)).backlog || backlog;
      }
    } catch (error) {
      log("error", "webhook ledger alarm failed", { error: errorName(error) });
      backlog = true;
    }
    const next = this.#nextAlarm(now, backlog);
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  #nextAlarm(now: number, backlog: boolean): number | null {
    if (backlog) return now + BACKLOG_RETRY_MS;
    if (!this.#table(false)) return null;
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM events WHERE status = 'received' LIMIT 1").toArray().length > 0) return now + SWEEP_INTERVAL_MS;
    const [oldest] = sql
      .exec<{ at: number | null }>(
        `SELECT min(at) AS at FROM (
           SELECT min(received_at) + ? AS at FROM events UNION ALL SELECT min(at) + ? AS at FROM event_index)`,
        WEBHOOK_RETENTION_DAYS * DAY_MS,
        INDEX_RETENTION_MS,
      )
      .toArray();
    if (oldest?.at === null || oldest?.at === undefined) return null;
    return Math.max(oldest.at + 60_000, now + SWEEP_INTERVAL_MS);
  }

  /**
   * Events still `received` with no message `UNSENT_AFTER_MS` after receipt (the route failed after
   * the row, the provider did not retry; a dead-lettered delivery), or none processed
   * `UNPROCESSED_AFTER_MS` after their message, are sent again by reference; one swept
   * `MAX_SWEEPS` times is dropped. The count goes up before the send and the time after it, so a
   * send that went out but was not recorded (the object reset in between) still counts, and an
   * event that never gets processed cannot loop forever; a send the queue refused is taken back,
   * so an outage of the queue drops nothing and the next alarm (30 s on) tries again.
   */
  async sweep(nowMs: number): Promise<{ resent: string[]; dropped: string[]; backlog: boolean }> {
    const result = { resent: [] as string[], dropped: [] as string[], backlog: false };
    if (!this.#table(false)) return result;
    const sql = this.ctx.storage.sql;
    for (let page = 0; page < PAGES_PER_ALARM; page++) {
      const rows = sql
        .exec<Row>(
          `SELECT * FROM events WHERE status = 'received'
             AND ((enqueued_at IS NULL AND received_at < ?) OR enqueued_at < ?)
           ORDER BY received_at LIMIT ?`,
          nowMs - UNSENT_AFTER_MS,
          nowMs - UNPROCESSED_AFTER_MS,
          PAGE_SIZE,
        )
        .toArray();
      if (rows.length === 0) return result;
      const exhausted = rows.filter((row) => row.sweeps >= MAX_SWEEPS).map((row) => row.id);
      const resend = rows.filter((row) => row.sweeps < MAX_SWEEPS);
      if (exhausted.length > 0) {
        sql.exec(
          `UPDATE events SET status = 'dropped', processed_at = ? WHERE status = 'received' AND id IN (${exhausted.map(() => "?").join(", ")})`,
          nowMs,
          ...exhausted,
        );
        result.dropped.push(...exhausted);
      }
      if (resend.length > 0) {
        const ids = resend.map((row) => row.id);
        const marks = ids.map(() => "?").join(", ");
        sql.exec(`UPDATE events SET sweeps = sweeps + 1 WHERE id IN (${marks})`, ...ids);
        try {
          await this.env.WEBHOOKS.sendBatch(
            resend.map((row) => ({
              body: { type: "provider.webhook" as const, provider: row.provider, webhookEventId: row.id },
              contentType: "json" as const,
            })),
          );
        } catch (error) {
          // A refused send is no sweep: counted, an outage of a few retries would drop every stuck event.
          sql.exec(`UPDATE events SET sweeps = sweeps - 1 WHERE id IN (${marks})`, ...ids);
          throw error;
        }
        // enqueued_at = now, so the same rows are not picked again on the next page.
        sql.exec(`UPDATE events SET enqueued_at = ? WHERE status = 'received' AND id IN (${marks})`, nowMs, ...ids);
        result.resent.push(...ids);
      }
    }
    result.backlog = true;
    return result;
  }

  /** Rows and payloads received more than `WEBHOOK_RETENTION_DAYS` before `nowMs` (payloads first), and expired index entries. */
  async purge(nowMs: number): Promise<{ deleted: number; backlog: boolean }> {
    if (!this.#table(false)) return { deleted: 0, backlog: false };
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM event_index WHERE at < ?", nowMs - INDEX_RETENTION_MS);
    const cutoff = nowMs - WEBHOOK_RETENTION_DAYS * DAY_MS;
    let deleted = 0;
    for (let page = 0; page < PAGES_PER_ALARM; page++) {
      const rows = sql
        .exec<{ id: string; r2_key: string }>("SELECT id, r2_key FROM events WHERE received_at < ? LIMIT ?", cutoff, PAGE_SIZE)
        .toArray();
      if (rows.length === 0) return { deleted, backlog: false };
      await this.env.LAKE.delete(rows.map((row) => row.r2_key));
      sql.exec(`DELETE FROM events WHERE id IN (${rows.map(() => "?").join(", ")})`, ...rows.map((row) => row.id));
      deleted += rows.length;
    }
    return { deleted, backlog: true };
  }
}
