/**
 * Single-use OAuth `state` with its PKCE verifier (DESIGN §7, RFC 6749 §10.12, RFC 7636).
 *
 * One object per state value: callers address it as `OAUTH_STATE.getByName(state)`. The state is
 * random (at least 128 bits), so names never collide, load spreads over as many objects as there are
 * flows in progress, and no object ever holds more than one entry. The object also stores the state
 * itself and answers only for it.
 *
 * `peek` reads a live entry without consuming it (the confirmation page shows whose flow it is) and
 * `bind` adds fields to it (the browser-binding hash once the person confirms); neither can change
 * the fields the callback trusts (`userId`, `provider`, `codeVerifier`, `redirectUri`), and neither
 * revives an entry that was taken or expired.
 *
 * `take` reads and deletes the entry synchronously (no `await` in between), so of any number of
 * concurrent callbacks carrying the same state exactly one gets the payload. An expired entry is
 * never returned, even if its clean-up alarm has not run yet. Storage is deleted entirely once the
 * entry is taken or expires (`deleteAll()` also removes the alarm since compatibility_date
 * 2026-02-24), so finished flows leave nothing behind.
 */
import { DurableObject } from "cloudflare:workers";

/**
 * Extra fields are flat on purpose: a recursive JSON type sends TypeScript's RPC stub typing
 * (`Rpc.Result`) into "excessively deep" instantiation for every caller.
 */
export type OAuthStateField = string | number | boolean | null | string[];

/** What the callback needs to finish the flow; extra fields are kept as they are. */
export interface OAuthStatePayload {
  userId: string;
  provider: string;
  codeVerifier: string;
  redirectUri: string;
  [key: string]: OAuthStateField;
}

interface StoredEntry {
  state: string;
  payloadJson: string;
  expiresAt: number;
}

const ENTRY_KEY = "entry";
/** base64url/hex/UUID alphabets; 22 base64url characters carry 128 bits. */
const STATE_FORMAT = /^[A-Za-z0-9_-]{22,256}$/;
const DEFAULT_TTL_SECONDS = 600;
const MAX_TTL_SECONDS = 3600;
const MAX_PAYLOAD_CHARS = 16 * 1024;
const REQUIRED_FIELDS = ["userId", "provider", "codeVerifier", "redirectUri"] as const;

function assertPayload(payload: OAuthStatePayload): string {
  for (const field of REQUIRED_FIELDS) {
    const value: unknown = payload[field];
    if (typeof value !== "string" || value.length === 0) throw new TypeError(`payload.${field} must be a non-empty string`);
  }
  const json = JSON.stringify(payload);
  if (json.length > MAX_PAYLOAD_CHARS) throw new RangeError(`payload must serialise to at most ${MAX_PAYLOAD_CHARS} characters`);
  return json;
}

export class OAuthState extends DurableObject<Env> {
  /** Stores the payload for `ttlSeconds`. A live state is never overwritten: that would be a bug. */
  async put(state: string, payload: OAuthStatePayload, ttlSeconds = DEFAULT_TTL_SECONDS): Promise<void> {
    if (typeof state !== "string" || !STATE_FORMAT.test(state))
      throw new TypeError("state must be 22-256 characters of [A-Za-z0-9_-]");
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS)
      throw new RangeError(`ttlSeconds must be an integer between 1 and ${MAX_TTL_SECONDS}`);
    const payloadJson = assertPayload(payload);

    const now = Date.now();
    const existing = this.ctx.storage.kv.get<StoredEntry>(ENTRY_KEY);
    if (existing !== undefined && existing.expiresAt > now) throw new Error("state is already in use");
    const expiresAt = now + ttlSeconds * 1000;
    this.ctx.storage.kv.put<StoredEntry>(ENTRY_KEY, { state, payloadJson, expiresAt });
    await this.ctx.storage.setAlarm(expiresAt);
  }

  /** The payload the first time a live state is presented; null ever after, or when unknown/expired. */
  async take(state: string): Promise<OAuthStatePayload | null> {
    if (typeof state !== "string" || !STATE_FORMAT.test(state)) return null;
    const entry = this.ctx.storage.kv.get<StoredEntry>(ENTRY_KEY);
    if (entry === undefined || entry.state !== state) return null;
    // Single use: gone before anything awaits, whether or not it was still valid.
    this.ctx.storage.kv.delete(ENTRY_KEY);
    const live = entry.expiresAt > Date.now();
    await this.ctx.storage.deleteAll();
    return live ? (JSON.parse(entry.payloadJson) as OAuthStatePayload) : null;
  }

  /** The payload of a live state, left in place; null when unknown, taken or expired. */
  async peek(state: string): Promise<OAuthStatePayload | null> {
    const entry = this.#live(state);
    return entry === null ? null : (JSON.parse(entry.payloadJson) as OAuthStatePayload);
  }

  /**
   * Adds or replaces extra fields of a live state, keeping its expiry; false when the state is
   * unknown, taken or expired, and when `fields` names one of the required fields: those are what
   * the callback trusts, never rebound. (A refusal is an answer, not a throw: an exception thrown
   * across RPC is also reported as uncaught inside the object.)
   */
  async bind(state: string, fields: Record<string, OAuthStateField>): Promise<boolean> {
    if (REQUIRED_FIELDS.some((field) => Object.hasOwn(fields, field))) return false;
    const entry = this.#live(state);
    if (entry === null) return false;
    const payload = { ...(JSON.parse(entry.payloadJson) as OAuthStatePayload), ...fields };
    this.ctx.storage.kv.put<StoredEntry>(ENTRY_KEY, { ...entry, payloadJson: assertPayload(payload) });
    return true;
  }

  #live(state: string): StoredEntry | null {
    if (typeof state !== "string" || !STATE_FORMAT.test(state)) return null;
    const entry = this.ctx.storage.kv.get<StoredEntry>(ENTRY_KEY);
    if (entry === undefined || entry.state !== state || entry.expiresAt <= Date.now()) return null;
    return entry;
  }

  override async alarm(): Promise<void> {
    const entry = this.ctx.storage.kv.get<StoredEntry>(ENTRY_KEY);
    // An alarm that runs early (tests, clock skew) must not end a live flow.
    if (entry !== undefined && entry.expiresAt > Date.now()) await this.ctx.storage.setAlarm(entry.expiresAt);
    else await this.ctx.storage.deleteAll();
  }
}
