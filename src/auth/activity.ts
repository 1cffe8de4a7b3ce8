/**
 * The Worker's side of the user's AuthActivity Durable Object (durable-objects/auth-activity.ts):
 * where the use of a session or device and the DPoP `jti`s go instead of D1, whose single writer
 * would otherwise take one write per authenticated request of every user (docs/identity.md,
 * "Where activity lives").
 *
 * Recording a session's use is throttled here, in isolate memory, and never delays the answer
 * (`waitUntil`); reading it back is left to the few places that need the exact last use — a
 * refresh that D1 alone would call idle, and the sessions list — so an ordinary request pays no
 * Durable Object round trip. The rules (how long a row matters) stay with the callers.
 */
import { errorName, log } from "../observability/log";
import { ExpiringMap } from "./expiring-map";
import { sha256Hex } from "./secrets";

/** A session's use is recorded at most this often per isolate: the 30-minute idle rule needs no finer. */
export const SESSION_USE_INTERVAL_MS = 60 * 1000;
// One small entry per session seen in the last minute: well under a MB of the isolate's 128 MB.
const MAX_THROTTLED_SESSIONS = 10_000;

type ActivityEnv = Pick<Env, "AUTH_ACTIVITY">;

const recentlyRecorded = new ExpiringMap<string, true>(MAX_THROTTLED_SESSIONS);

function activityOf(env: ActivityEnv, userId: string) {
  return env.AUTH_ACTIVITY.getByName(userId);
}

export interface SessionUse {
  sessionId: string;
  userId: string;
  /** The use D1 already knows of (the last token issuance). */
  lastSeenAt: Date;
  at: number;
  /** When the record stops mattering: the end of the idle window it opens. */
  forgetAt: number;
}

/**
 * Records a request made with a session, at most once a minute per session in this isolate and
 * not within a minute of the use D1 knows of. A record that fails is logged, never the request's
 * failure: the cost is a session that may end up to a minute early at its next refresh.
 */
export function recordSessionUse(env: ActivityEnv, waitUntil: (work: Promise<unknown>) => void, use: SessionUse): void {
  if (use.at - use.lastSeenAt.getTime() <= SESSION_USE_INTERVAL_MS) return;
  if (recentlyRecorded.get(use.sessionId, use.at) !== undefined) return;
  recentlyRecorded.set(use.sessionId, true, use.at + SESSION_USE_INTERVAL_MS, use.at);
  waitUntil(
    activityOf(env, use.userId)
      .touchSession(use.sessionId, use.at, use.forgetAt)
      .catch((error: unknown) => log("warn", "session use not recorded", { sessionId: use.sessionId, error: errorName(error) })),
  );
}

/**
 * Forgets that this isolate recorded the session's use recently, so its next request records again.
 * The load harness (bench/worker.ts) uses it to stand a session ten minutes after its last use.
 */
export function forgetRecentSessionUse(sessionId: string): void {
  recentlyRecorded.delete(sessionId);
}

/** The latest recorded use (ms) of each of the user's sessions that has one. */
export function recordedSessionUses(env: ActivityEnv, userId: string, sessionIds: string[]): Promise<Record<string, number>> {
  if (sessionIds.length === 0) return Promise.resolve({});
  return activityOf(env, userId).sessionsLastSeen(sessionIds);
}

/** The latest recorded use (ms) of each of the user's devices that has one. */
export function recordedDeviceUses(env: ActivityEnv, userId: string, deviceIds: string[]): Promise<Record<string, number>> {
  if (deviceIds.length === 0) return Promise.resolve({});
  return activityOf(env, userId).devicesLastUsed(deviceIds);
}

export interface DpopProofUse {
  userId: string;
  deviceId: string;
  jti: string;
  /** When the proof's `iat` leaves the acceptance window: past it the proof is refused by age alone. */
  expiresAt: number;
  at: number;
  /** When the device's recorded use stops mattering (the end of its unused lifetime). */
  deviceForgetAt: number;
}

/** True when this proof's `jti` is new for the device (and the use is recorded); false for a replay. */
export async function useDpopProof(env: ActivityEnv, proof: DpopProofUse): Promise<boolean> {
  // Hashed: a client-chosen `jti` of up to 256 characters becomes a fixed-size key.
  const jtiHash = await sha256Hex(proof.jti);
  return activityOf(env, proof.userId).useDpopProof(proof.deviceId, jtiHash, proof.expiresAt, proof.at, proof.deviceForgetAt);
}

/** Deletes everything the user's AuthActivity holds (account deletion). */
export async function forgetAuthActivity(env: ActivityEnv, userId: string): Promise<void> {
  await activityOf(env, userId).forget();
}
