/**
 * A bounded map whose entries expire, kept in isolate memory. Each entry carries its own deadline
 * (callers compute it: a session entry must expire a fixed time after the D1 read that filled it
 * started, a token entry no later than the token itself). When full, the entry written longest ago
 * goes first. Time is passed in by the caller, so the owner decides which clock counts.
 *
 * Hand-written rather than a library: the callers need exactly a Map with per-entry deadlines and
 * a size bound, and the two things they need beyond that (a generation check so an in-flight read
 * cannot resurrect a revoked entry, and "forget every entry of this user") sit in the callers.
 */
export class ExpiringMap<K, V> {
  readonly #entries = new Map<K, { value: V; until: number }>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get(key: K, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` until `until` (ms since the epoch); nothing is stored for a deadline already past. */
  set(key: K, value: V, until: number, now: number): void {
    this.#entries.delete(key);
    if (until <= now) return;
    this.#entries.set(key, { value, until });
    if (this.#entries.size > this.#maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest write.
      for (const oldest of this.#entries.keys()) {
        this.#entries.delete(oldest);
        break;
      }
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Removes every entry whose value matches; a scan, bounded by the map's size. */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (matches(entry.value)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
