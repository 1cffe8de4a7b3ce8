/**
 * Fixed-window counters held in the isolate's memory: no I/O, so cheap enough to run on every
 * request. Exact within one isolate; across isolates each keeps its own count (see ip-limit.ts).
 * Bounded: at most `maxKeys` windows are kept; expired ones are dropped first, then the oldest.
 */
export interface WindowDecision {
  allowed: boolean;
  remaining: number;
  resetSeconds: number;
}

export class LocalWindowCounter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(options: { limit: number; windowSeconds: number; maxKeys?: number }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowSeconds * 1000;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  consume(key: string, now = Date.now()): WindowDecision {
    let window = this.#windows.get(key);
    if (!window || now - window.start >= this.#windowMs) {
      if (window) this.#windows.delete(key);
      else this.#makeRoom(now);
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    const resetSeconds = Math.max(1, Math.ceil((window.start + this.#windowMs - now) / 1000));
    if (window.count >= this.#limit) return { allowed: false, remaining: 0, resetSeconds };
    window.count += 1;
    return { allowed: true, remaining: this.#limit - window.count, resetSeconds };
  }

  get size(): number {
    return this.#windows.size;
  }

  /**
   * A window is (re)inserted when it opens, so the Map's insertion order is the order of window
   * starts: expired windows sit at the front. Dropping from the front keeps this O(1) amortized
   * even when every request brings a new key.
   */
  #makeRoom(now: number): void {
    for (const [key, window] of this.#windows) {
      const full = this.#windows.size >= this.#maxKeys;
      if (!full && now - window.start < this.#windowMs) break;
      this.#windows.delete(key);
      if (!full) continue;
      if (this.#windows.size < this.#maxKeys) break;
    }
  }
}
