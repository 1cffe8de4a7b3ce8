/**
 * Exact quotas, one object per limited key (DESIGN §1): the Worker addresses it as
 * `RATE_LIMITER.getByName(`${name}:${key}`)`, so every request for one key meets the same
 * single-threaded object and the count cannot drift between edge locations.
 *
 * Algorithm: a fixed window that opens with the first request for the key (not aligned to the
 * clock, so keys do not all reset at the same instant). Within one window the quota is exact; the
 * known cost of fixed windows is that a caller can spend a full quota at the end of one window and
 * another at the start of the next (at most 2× the limit in any rolling window). That is accepted
 * here for one storage row per key; a sliding log would be exact across boundaries but write a row
 * per request.
 *
 * Atomicity: `consume` reads, decides and writes through the synchronous KV API (SQLite-backed) with
 * no `await` in between, and a Durable Object runs one event at a time until it awaits, so
 * concurrent calls are serialized and can never let more than the quota through. State lives in
 * storage, not memory, so eviction or a restart does not reset a window.
 *
 * Clean-up: an alarm at the end of each window deletes expired windows; when none is left the
 * object's storage is deleted entirely (with compatibility_date ≥ 2026-02-24, `deleteAll()` also
 * removes the alarm), so an object for an IP seen once does not keep storage forever.
 */
import { DurableObject } from "cloudflare:workers";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Units still available in the current window after this call. */
  remaining: number;
  /** Whole seconds until the current window ends and the quota is full again (at least 1). */
  resetSeconds: number;
  /** Seconds a denied caller should wait (`Retry-After`); 0 when allowed. */
  retryAfterSeconds: number;
}

interface StoredWindow {
  endMs: number;
  count: number;
}

const WINDOW_PREFIX = "window:";
const MAX_LIMIT = 1_000_000_000;
const MAX_WINDOW_SECONDS = 7 * 24 * 60 * 60;

function assertPositiveInteger(name: string, value: unknown, max: number): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max)
    throw new RangeError(`${name} must be an integer between 1 and ${max}`);
}

export class RateLimiter extends DurableObject<Env> {
  /**
   * Takes `cost` units from the key's quota of `limit` per `windowSeconds`. A denied call takes
   * nothing, so a client that keeps retrying is not pushed further back.
   */
  async consume(limit: number, windowSeconds: number, cost = 1): Promise<RateLimitDecision> {
    assertPositiveInteger("limit", limit, MAX_LIMIT);
    assertPositiveInteger("windowSeconds", windowSeconds, MAX_WINDOW_SECONDS);
    assertPositiveInteger("cost", cost, limit);

    // Critical section: synchronous from here to the return value; see the header comment.
    const now = Date.now();
    const key = `${WINDOW_PREFIX}${windowSeconds}`;
    const stored = this.ctx.storage.kv.get<StoredWindow>(key);
    const opensWindow = stored === undefined || stored.endMs <= now;
    const current: StoredWindow = opensWindow ? { endMs: now + windowSeconds * 1000, count: 0 } : stored;
    const allowed = current.count + cost <= limit;
    const used = allowed ? current.count + cost : current.count;
    if (allowed) this.ctx.storage.kv.put<StoredWindow>(key, { endMs: current.endMs, count: used });
    const resetSeconds = Math.max(1, Math.ceil((current.endMs - now) / 1000));
    const decision: RateLimitDecision = {
      allowed,
      limit,
      remaining: Math.max(0, limit - used),
      resetSeconds,
      retryAfterSeconds: allowed ? 0 : resetSeconds,
    };

    if (opensWindow) await this.#scheduleCleanup(current.endMs);
    return decision;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    let nextEnd: number | undefined;
    for (const [key, window] of this.ctx.storage.kv.list<StoredWindow>({ prefix: WINDOW_PREFIX })) {
      if (window.endMs <= now) this.ctx.storage.kv.delete(key);
      else nextEnd = Math.min(nextEnd ?? window.endMs, window.endMs);
    }
    // An alarm can run early (tests, or one left from an older window): keep live windows.
    if (nextEnd === undefined) await this.ctx.storage.deleteAll();
    else await this.ctx.storage.setAlarm(nextEnd);
  }

  async #scheduleCleanup(endMs: number): Promise<void> {
    const scheduled = await this.ctx.storage.getAlarm();
    // An earlier pending alarm reschedules itself for the live windows it finds.
    if (scheduled === null || scheduled > endMs) await this.ctx.storage.setAlarm(endMs);
  }
}
