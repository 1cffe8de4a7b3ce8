/**
 * Session state for `requireAuth()` kept in isolate memory, so an authenticated request does not
 * read D1 every time (docs/benchmarks.md, "Authenticated route"; docs/identity.md, "Sessions").
 *
 * The guarantee: a revoked session, an ended session or a changed role takes effect
 *  - at once in the isolate that made the change: every code path that ends sessions or changes a
 *    role calls `forgetSession` / `forgetUserSessions` after its D1 write commits;
 *  - within SESSION_CACHE_TTL_MS everywhere else: an entry lives that long from the moment the D1
 *    read that filled it *started*, so any change committed after that read cannot be missed for
 *    longer than the TTL.
 * A read still in flight when a change is made here cannot put its (possibly older) answer back
 * into the cache: every forget bumps a generation, and a read only stores its answer when the
 * generation is the one it started under. Concurrent requests for the same uncached session share
 * one D1 read.
 */
import type { UserRole } from "../db/schema";
import { ExpiringMap } from "./expiring-map";
import type { SessionRow } from "./sessions";

/** How stale another isolate's view of a session may be (revocation everywhere within 5 s). */
export const SESSION_CACHE_TTL_MS = 5_000;
// ~300 bytes an entry: a few MB at most of the isolate's 128 MB.
const MAX_SESSIONS = 10_000;

export interface SessionState {
  session: SessionRow;
  role: UserRole;
  userDeleted: boolean;
}

const cache = new ExpiringMap<string, SessionState>(MAX_SESSIONS);
const pending = new Map<string, Promise<SessionState | undefined>>();
let generation = 0;

/**
 * The session's state from the cache, or from `read` (D1) when it is not cached or has expired.
 * `now` is the caller's clock in ms; the entry expires SESSION_CACHE_TTL_MS after it.
 */
export function sessionState(
  sessionId: string,
  now: number,
  read: () => Promise<SessionState | undefined>,
): Promise<SessionState | undefined> {
  const cached = cache.get(sessionId, now);
  if (cached !== undefined) return Promise.resolve(cached);
  const inFlight = pending.get(sessionId);
  if (inFlight !== undefined) return inFlight;

  const startedUnder = generation;
  const loading = read()
    .then((state) => {
      if (state !== undefined && generation === startedUnder) cache.set(sessionId, state, now + SESSION_CACHE_TTL_MS, now);
      return state;
    })
    .finally(() => {
      if (pending.get(sessionId) === loading) pending.delete(sessionId);
    });
  pending.set(sessionId, loading);
  return loading;
}

/** Drops one session (revoked, ended); call after the D1 write has committed. */
export function forgetSession(sessionId: string): void {
  generation += 1;
  pending.clear();
  cache.delete(sessionId);
}

/** Drops every session of a user (sign out everywhere, role change, deletion); after the write. */
export function forgetUserSessions(userId: string): void {
  generation += 1;
  pending.clear();
  cache.deleteWhere((state) => state.session.userId === userId);
}
