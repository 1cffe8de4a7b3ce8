/**
 * Credential activity of one user, kept off D1's single writer (docs/identity.md, "Where activity
 * lives"): one object per user, addressed as `AUTH_ACTIVITY.getByName(userId)`. It holds only
 * short-lived, high-churn facts about the user's credentials — when each session last made a
 * request, when each device last did, and the DPoP `jti`s seen within their acceptance window —
 * never health data, never a secret. src/auth/activity.ts is the only caller.
 *
 * The contract:
 *  - `touchSession(sessionId, atMs, forgetAtMs)`: records use of a session (throttled by the
 *    caller); the latest use wins whatever order the calls arrive in;
 *  - `sessionsLastSeen(sessionIds)`: the latest recorded use of each session it still holds;
 *  - `useDpopProof(deviceId, jtiHash, expiresAtMs, nowMs, deviceForgetAtMs)`: true when the key is
 *    new (recorded, and the device's use with it), false for a replay (nothing recorded);
 *  - `devicesLastUsed(deviceIds)`: the latest recorded use of each device it still holds;
 *  - every row carries the instant after which it no longer matters (the caller knows the rule:
 *    the idle window, the proof's `iat` window, the device's unused lifetime); an alarm deletes
 *    rows past it, and deletes the object's storage entirely once nothing is left;
 *  - `forget()`: deletes everything at once (account deletion).
 *
 * Atomicity: each method reads and writes through the synchronous SQL API with no `await` before
 * its answer is decided, and a Durable Object runs one event at a time until it awaits, so two
 * concurrent uses of one proof are serialized: exactly one inserts the key, the other finds it.
 * An existing key refuses a proof even past its expiry: a proof that old fails the `iat` check
 * anyway, and refusing is the safe answer.
 */
import { DurableObject } from "cloudflare:workers";

/** Rows past their time are purged in runs at most this far apart, not one alarm per row. */
const PURGE_DELAY_MS = 5 * 60 * 1000;
const MAX_ID_CHARS = 128;
const MAX_IDS_PER_CALL = 100;

const TABLES = [
  "CREATE TABLE IF NOT EXISTS session_use (session_id TEXT PRIMARY KEY, used_at INTEGER NOT NULL, forget_at INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS device_use (device_id TEXT PRIMARY KEY, used_at INTEGER NOT NULL, forget_at INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE TABLE IF NOT EXISTS dpop_keys (device_id TEXT NOT NULL, jti_hash TEXT NOT NULL, forget_at INTEGER NOT NULL, PRIMARY KEY (device_id, jti_hash)) WITHOUT ROWID",
] as const;
const PURGEABLE = ["session_use", "device_use", "dpop_keys"] as const;
type UseTable = "session_use" | "device_use";
type UseColumn = "session_id" | "device_id";

function assertId(name: string, value: unknown): asserts value is string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_ID_CHARS)
    throw new TypeError(`${name} must be a string of 1-${MAX_ID_CHARS} characters`);
}

function assertIds(name: string, values: unknown): asserts values is string[] {
  if (!Array.isArray(values) || values.length > MAX_IDS_PER_CALL)
    throw new TypeError(`${name} must be an array of at most ${MAX_IDS_PER_CALL} ids`);
  for (const value of values) assertId(name, value);
}

function assertInstant(name: string, value: unknown): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`${name} must be milliseconds since the epoch`);
}

export class AuthActivity extends DurableObject<Env> {
  /** Whether the tables exist; unknown until first asked, false again after `deleteAll()`. */
  #tables: boolean | undefined;

  async touchSession(sessionId: string, atMs: number, forgetAtMs: number): Promise<void> {
    assertId("sessionId", sessionId);
    assertInstant("atMs", atMs);
    assertInstant("forgetAtMs", forgetAtMs);
    this.#createTables();
    this.#recordUse("session_use", "session_id", sessionId, atMs, forgetAtMs);
    await this.#purgeBy(forgetAtMs);
  }

  async sessionsLastSeen(sessionIds: string[]): Promise<Record<string, number>> {
    assertIds("sessionIds", sessionIds);
    return this.#lastUses("session_use", "session_id", sessionIds);
  }

  async useDpopProof(
    deviceId: string,
    jtiHash: string,
    expiresAtMs: number,
    nowMs: number,
    deviceForgetAtMs: number,
  ): Promise<boolean> {
    assertId("deviceId", deviceId);
    assertId("jtiHash", jtiHash);
    assertInstant("expiresAtMs", expiresAtMs);
    assertInstant("nowMs", nowMs);
    assertInstant("deviceForgetAtMs", deviceForgetAtMs);
    // Critical section: synchronous from the insert to the decision; see the header comment.
    this.#createTables();
    const { rowsWritten } = this.ctx.storage.sql.exec(
      "INSERT INTO dpop_keys (device_id, jti_hash, forget_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      deviceId,
      jtiHash,
      expiresAtMs,
    );
    if (rowsWritten === 0) return false;
    this.#recordUse("device_use", "device_id", deviceId, nowMs, deviceForgetAtMs);
    await this.#purgeBy(expiresAtMs);
    return true;
  }

  async devicesLastUsed(deviceIds: string[]): Promise<Record<string, number>> {
    assertIds("deviceIds", deviceIds);
    return this.#lastUses("device_use", "device_id", deviceIds);
  }

  /** Everything about the user's credentials, at once; with its alarm (compatibility_date ≥ 2026-02-24). */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.#tables = false;
  }

  override async alarm(): Promise<void> {
    if (!this.#hasTables()) return;
    const now = Date.now();
    let next: number | null = null;
    for (const table of PURGEABLE) {
      this.ctx.storage.sql.exec(`DELETE FROM ${table} WHERE forget_at <= ?`, now);
      const [row] = this.ctx.storage.sql.exec<{ at: number | null }>(`SELECT min(forget_at) AS at FROM ${table}`).toArray();
      if (row?.at != null && (next === null || row.at < next)) next = row.at;
    }
    if (next === null) {
      // Nothing left: an object for a user who stopped signing in keeps no storage at all.
      await this.forget();
      return;
    }
    await this.ctx.storage.setAlarm(next + PURGE_DELAY_MS);
  }

  /** The latest use wins, whatever order the calls arrive in; so does the later expiry. */
  #recordUse(table: UseTable, column: UseColumn, id: string, atMs: number, forgetAtMs: number): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO ${table} (${column}, used_at, forget_at) VALUES (?, ?, ?)
       ON CONFLICT (${column}) DO UPDATE SET used_at = max(used_at, excluded.used_at), forget_at = max(forget_at, excluded.forget_at)`,
      id,
      atMs,
      forgetAtMs,
    );
  }

  #lastUses(table: UseTable, column: UseColumn, ids: string[]): Record<string, number> {
    const found: Record<string, number> = {};
    if (ids.length === 0 || !this.#hasTables()) return found;
    const rows = this.ctx.storage.sql
      .exec<{ id: string; used_at: number }>(
        `SELECT ${column} AS id, used_at FROM ${table} WHERE ${column} IN (${ids.map(() => "?").join(", ")})`,
        ...ids,
      )
      .toArray();
    for (const row of rows) found[row.id] = row.used_at;
    return found;
  }

  /** Makes sure an alarm will purge a row that stops mattering at `forgetAtMs`. */
  async #purgeBy(forgetAtMs: number): Promise<void> {
    const at = forgetAtMs + PURGE_DELAY_MS;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  #hasTables(): boolean {
    this.#tables ??=
      this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dpop_keys'").toArray().length > 0;
    return this.#tables;
  }

  /** Tables are created on the first write, not in the constructor: a read alone stores nothing. */
  #createTables(): void {
    if (this.#hasTables()) return;
    for (const statement of TABLES) this.ctx.storage.sql.exec(statement);
    this.#tables = true;
  }
}
